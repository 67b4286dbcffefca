/**
 * What the fast help pages (no oclif loaded) need to know about the terminal: whether oclif
 * would colour, how wide it would wrap, and a way to print without creating process.stdout
 * (a stream whose creation costs several milliseconds of a start measured in tens).
 */
import { writeSync } from 'node:fs';
import { isatty } from 'node:tty';

export interface Terminal {
  width: number;
  color: boolean;
}

/** The width oclif wraps to (OCLIF_COLUMNS, else the terminal's, at least 40, else 80), and its colour. */
export function terminal(env: NodeJS.ProcessEnv): Terminal {
  const stdoutTTY = isatty(1);
  const color = oclifUsesColor(env, stdoutTTY, isatty(2));
  const fixed = Number.parseInt(env.OCLIF_COLUMNS ?? '', 10);
  if (fixed) return { width: fixed, color };
  if (!stdoutTTY) return { width: 80, color };
  const width = process.stdout.getWindowSize()[0] ?? 0;
  return { width: width < 1 ? 80 : Math.max(40, width), color };
}

/** All of text to stdout, synchronously; a reader that went away (`| head`) is no error. */
export function printSync(text: string): void {
  const bytes = Buffer.from(text);
  for (let done = 0; done < bytes.length;) {
    try {
      done += writeSync(1, bytes, done);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EPIPE') return;
      if (code !== 'EAGAIN') throw error;
    }
  }
}

/**
 * Colour as oclif decides it: its theme colours only when supports-color allows colour on both
 * stdout and stderr, and ansis (which draws them) agrees.
 */
export function oclifUsesColor(env: NodeJS.ProcessEnv, stdoutTTY: boolean, stderrTTY: boolean): boolean {
  return supportsColor(env, stdoutTTY) && supportsColor(env, stderrTTY) && ansisColor(env, stdoutTTY);
}

/** supports-color 8 (what oclif uses), without argv flags: koala's fast path has none. */
function supportsColor(env: NodeJS.ProcessEnv, isTTY: boolean): boolean {
  let force: number | undefined;
  if ('FORCE_COLOR' in env) {
    const v = env.FORCE_COLOR ?? '';
    force = v === 'true' ? 1 : v === 'false' ? 0 : v.length === 0 ? 1 : Math.min(Number.parseInt(v, 10), 3);
  }
  if (force === 0) return false;
  if (!isTTY && force === undefined) return false;
  const min = force || 0;
  if (env.TERM === 'dumb') return min > 0;
  if ('CI' in env) {
    if (
      ['TRAVIS', 'CIRCLECI', 'APPVEYOR', 'GITLAB_CI', 'GITHUB_ACTIONS', 'BUILDKITE', 'DRONE'].some((s) => s in env) ||
      env.CI_NAME === 'codeship'
    )
      return true;
    return min > 0;
  }
  if ('TEAMCITY_VERSION' in env) return /^(9\.(0*[1-9]\d*)\.|\d{2,}\.)/.test(env.TEAMCITY_VERSION ?? '');
  if (env.COLORTERM === 'truecolor' || env.TERM_PROGRAM === 'iTerm.app' || env.TERM_PROGRAM === 'Apple_Terminal')
    return true;
  if (
    /-256(color)?$/i.test(env.TERM ?? '') ||
    /^screen|^xterm|^vt100|^vt220|^rxvt|color|ansi|cygwin|linux/i.test(env.TERM ?? '')
  )
    return true;
  if ('COLORTERM' in env) return true;
  return min > 0;
}

/** ansis 3's colour detection (Node, Linux-like), reduced to "any colour at all". */
function ansisColor(env: NodeJS.ProcessEnv, isTTY: boolean): boolean {
  const forced = env.FORCE_COLOR;
  const n = Number.parseInt(forced ?? '', 10);
  const level = Number.isNaN(n) ? (forced === 'false' ? 0 : -1) : n;
  if (level === 0 || env.NO_COLOR) return false;
  if ('FORCE_COLOR' in env && level) return true;
  const term = env.TERM ?? '';
  const keys = `,${Object.keys(env).join(',')}`;
  const detected =
    ({ '24bit': 3, truecolor: 3, ansi256: 2, ansi: 1 } as Record<string, number>)[env.COLORTERM ?? ''] ??
    (env.TF_BUILD ? 1 : /,TEAMCI/.test(keys) ? 2 : env.CI ? 1 : !isTTY || /-mono|dumb/i.test(term) ? 0 : 1);
  return detected > 0;
}
