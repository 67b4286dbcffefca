import { expect } from 'vitest';
import { ConfigError } from '../../src/util/errors.ts';

/**
 * Bad input: `load` must fail with a ConfigError (exit code 2) whose message names the file and
 * matches `expected` (the field and what is accepted).
 */
export async function expectBadInput(load: Promise<unknown>, file: string, expected: RegExp): Promise<void> {
  const error = await load.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConfigError);
  expect((error as ConfigError).exitCode).toBe(2);
  expect((error as ConfigError).message).toContain(file);
  expect((error as ConfigError).message).toMatch(expected);
}
