import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';

/**
 * A PKCS#10 certificate signing request, built with node:crypto and a few lines of DER: the
 * subject is CN=<user>, O=<group>, which is how the Kubernetes API server reads a client
 * certificate's user and groups. The key is EC P-256 and never leaves koala's process except
 * into the 0600 kubeconfig it is written to.
 */

function derLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let n = length; n > 0; n >>= 8) bytes.unshift(n & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function der(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), derLength(body.length), body]);
}

const sequence = (...parts: Buffer[]): Buffer => der(0x30, ...parts);
const set = (...parts: Buffer[]): Buffer => der(0x31, ...parts);
const utf8 = (text: string): Buffer => der(0x0c, Buffer.from(text, 'utf8'));

export function oid(dotted: string): Buffer {
  const [first, second, ...rest] = dotted.split('.').map(Number);
  const bytes: number[] = [first! * 40 + second!];
  for (const arc of rest) {
    const chunk: number[] = [arc & 0x7f];
    for (let n = arc >> 7; n > 0; n >>= 7) chunk.unshift((n & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return der(0x06, Buffer.from(bytes));
}

const OID = { organization: '2.5.4.10', commonName: '2.5.4.3', ecdsaWithSha256: '1.2.840.10045.4.3.2' };

export interface Csr {
  /** PEM "CERTIFICATE REQUEST". */
  csrPem: string;
  /** PEM PKCS#8 private key. */
  keyPem: string;
}

export function createCsr(
  subject: { commonName: string; organizations: string[] },
  key?: { privateKey: KeyObject; publicKey: KeyObject },
): Csr {
  const pair = key ?? generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const name = sequence(
    ...subject.organizations.map((o) => set(sequence(oid(OID.organization), utf8(o)))),
    set(sequence(oid(OID.commonName), utf8(subject.commonName))),
  );
  const info = sequence(
    Buffer.from([0x02, 0x01, 0x00]), // version 0
    name,
    pair.publicKey.export({ type: 'spki', format: 'der' }),
    Buffer.from([0xa0, 0x00]), // attributes: [0] IMPLICIT SET OF, empty
  );
  const signature = sign('sha256', info, pair.privateKey); // DER-encoded ECDSA signature
  const request = sequence(info, sequence(oid(OID.ecdsaWithSha256)), der(0x03, Buffer.from([0x00]), signature));
  return {
    csrPem: pem('CERTIFICATE REQUEST', request),
    keyPem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

function pem(label: string, data: Buffer): string {
  const lines = data.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
