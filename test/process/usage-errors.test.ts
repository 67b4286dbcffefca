import { describe, expect, it } from 'vitest';
import { koala, makeWorld } from '../support/cli.ts';
import { jsonDocument } from '../support/json-documents.ts';

/** Bad input on the command line is a usage error: exit 2, what is accepted, and --help. */
describe('usage errors (the built CLI)', () => {
  const cases: Array<{ argv: string[]; message: RegExp; help: string }> = [
    {
      argv: ['up', '--frobnicate'],
      message:
        /Unknown flag: --frobnicate \(accepted: --json, --verbose, --config, --name, --context, --control-planes/,
      help: 'koala up --help',
    },
    {
      argv: ['up', '--workers', 'abc'],
      message: /--workers: Expected an integer but received: abc/,
      help: 'koala up --help',
    },
    {
      argv: ['users', 'kubeconfig', 'root'],
      message: /Expected root to be one of: admin, edit, view/,
      help: 'koala users kubeconfig --help',
    },
    {
      argv: ['users', 'kubeconfig', 'view', '--hours', '0'],
      message: /--hours: Expected an integer greater than or equal to 1/,
      help: 'koala users kubeconfig --help',
    },
    { argv: ['users', 'kubeconfig'], message: /Missing 1 required arg/, help: 'koala users kubeconfig --help' },
  ];

  it.each(cases)(
    'koala $argv exits 2, says what is accepted and points to --help; no tool runs',
    async ({ argv, message, help }) => {
      const world = makeWorld();
      const result = await koala(world, argv);
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).toContain(`→ Run \`${help}\``);
      expect(result.stderr).not.toMatch(/bug in koala|See more help with/);
      expect(result.stdout).toBe('');
      expect(world.calls()).toEqual([]);
    },
  );

  it('--json makes it one JSON document on stdout', async () => {
    const result = await koala(makeWorld(), ['up', '--json', '--workers', 'abc']);
    expect(result.code).toBe(2);
    const doc = jsonDocument('error', result.stdout);
    expect(doc.ok).toBe(false);
    expect(doc.error.message).toMatch(/--workers: Expected an integer/);
    expect(doc.error.hint).toMatch(/koala up --help/);
  });
});
