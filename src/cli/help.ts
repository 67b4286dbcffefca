import { Help } from '@oclif/core/help';
import { wrapPlain } from './wrap.ts';

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
