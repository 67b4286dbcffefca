import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { wrapPlain } from '../../src/cli/wrap.ts';

// oclif's help wraps with wrap-ansi (a dependency of @oclif/core); the fast help must wrap alike.
const wrapAnsi = createRequire(import.meta.url)('wrap-ansi') as (
  text: string,
  columns: number,
  options: { hard: boolean },
) => string;

describe('wrapPlain', () => {
  it('wraps plain text exactly as wrap-ansi does in hard mode, long words and odd spacing included', () => {
    const words = [
      'a',
      'bb',
      'ccc',
      '(cluster.kubernetesVersion).',
      'x'.repeat(30),
      '',
      'hello',
      'world',
      '--flag=<value>',
    ];
    let seed = 42;
    const random = (n: number): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
    for (let t = 0; t < 5000; t++) {
      const line = Array.from({ length: 1 + random(12) }, () => words[random(words.length)]).join(
        random(10) === 0 ? '  ' : ' ',
      );
      const text = random(5) === 0 ? `${line}\n${line}` : line;
      const width = 1 + random(40);
      expect(wrapPlain(text, width), JSON.stringify({ text, width })).toBe(wrapAnsi(text, width, { hard: true }));
    }
  });
});
