import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createCsr, oid } from '../../../src/components/rbac/csr.ts';

describe('the persona certificate request', () => {
  it('is a valid PKCS#10 request (openssl verifies its signature) with CN=user, O=group', () => {
    const { csrPem, keyPem } = createCsr({ commonName: 'koala-edit', organizations: ['koala:editors'] });
    const dir = mkdtempSync(path.join(os.tmpdir(), 'koala-csr-'));
    writeFileSync(path.join(dir, 'req.pem'), csrPem);
    const out = execFileSync('openssl', ['req', '-in', path.join(dir, 'req.pem'), '-noout', '-verify', '-subject'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(out).toMatch(/O\s*=\s*koala:editors, CN\s*=\s*koala-edit/);
    expect(keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
  });

  it('encodes object identifiers as DER', () => {
    expect(oid('1.2.840.10045.4.3.2').toString('hex')).toBe('06082a8648ce3d040302');
    expect(oid('2.5.4.3').toString('hex')).toBe('0603550403');
  });
});
