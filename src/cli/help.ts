import { Help } from '@oclif/core/help';

/**
 * oclif's help, with a faster wrap for plain text. oclif wraps through wrap-ansi, whose
 * string-width compiles a large emoji RegExp on every call: tens of milliseconds for one help
 * page. koala's help text is plain ASCII, which a greedy word wrap handles exactly; anything
 * else (colour codes, wide characters) still goes to oclif's wrap.
 */
export default class KoalaHelp extends Help {
  override wrap(body: string, spacing = this.indentSpacing): string {
    const text = this.render(body);
    if (!/^[\x20-\x7e\n]*$/.test(text)) return super.wrap(body, spacing);
    return wrapPlain(text, this.opts.maxWidth - spacing);
  }
}

/** Greedy word wrap; words longer than the width are broken (as wrap-ansi's `hard` does). */
export function wrapPlain(text: string, width: number): string {
  const max = Math.max(1, width);
  return text
    .split('\n')
    .map((line) => {
      const words = line.trim().split(/ +/).filter(Boolean);
      const out: string[] = [];
      let current = '';
      for (let word of words) {
        while (word.length > max) {
          if (current) {
            out.push(current);
            current = '';
          }
          out.push(word.slice(0, max));
          word = word.slice(max);
        }
        if (!current) current = word;
        else if (current.length + 1 + word.length <= max) current += ` ${word}`;
        else {
          out.push(current);
          current = word;
        }
      }
      if (current || out.length === 0) out.push(current);
      return out.join('\n');
    })
    .join('\n');
}
