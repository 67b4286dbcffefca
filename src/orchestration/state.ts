import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * A small JSON record per cluster in koala's home. It tells an interrupted `kind create`
 * (phase "creating": the nodes may be half made) from a finished cluster.
 */
export interface ClusterRecord {
  phase: 'creating' | 'created';
  updatedAt: string;
}

/** A JSON file in a cluster's home; undefined when it is missing or unreadable (it is then written anew). */
async function readHomeFile<T>(home: string, file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path.join(home, file), 'utf8')) as T;
  } catch {
    return undefined;
  }
}

export function readRecord(home: string): Promise<ClusterRecord | undefined> {
  return readHomeFile<ClusterRecord>(home, 'cluster.json');
}

export async function writeRecord(home: string, phase: ClusterRecord['phase']): Promise<void> {
  await writePrivateFile(
    path.join(home, 'cluster.json'),
    `${JSON.stringify({ phase, updatedAt: new Date().toISOString() }, null, 2)}\n`,
  );
}

/** The user's yes to installing onto a cluster koala did not create: the context and its server then. */
export interface Consent {
  context: string;
  server: string;
  at: string;
}

export function readConsent(home: string): Promise<Consent | undefined> {
  return readHomeFile<Consent>(home, 'consent.json');
}

export async function writeConsent(home: string, consent: Omit<Consent, 'at'>): Promise<void> {
  await writePrivateFile(
    path.join(home, 'consent.json'),
    `${JSON.stringify({ ...consent, at: new Date().toISOString() }, null, 2)}\n`,
  );
}

export async function removeHome(home: string): Promise<void> {
  await rm(home, { recursive: true, force: true });
}

/**
 * Write a file only the user can read (0600, in a 0700 directory), atomically: a crash leaves
 * either the old file or the new one, never half of one.
 */
export async function writePrivateFile(file: string, content: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, content, { mode: 0o600 });
  await rename(tmp, file);
}
