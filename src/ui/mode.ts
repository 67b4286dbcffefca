/** How koala talks to whoever runs it. */
export type OutputMode =
  /** A person at a terminal: listr2 progress, colour. */
  | 'tty'
  /** A pipe or CI log: one plain line per event. */
  | 'plain'
  /** A script: nothing but one JSON document on stdout. */
  | 'json';

export function detectMode(options: {
  json?: boolean;
  stream?: NodeJS.WriteStream;
  env?: NodeJS.ProcessEnv;
}): OutputMode {
  if (options.json) return 'json';
  const env = options.env ?? process.env;
  const stream = options.stream ?? process.stdout;
  // A terminal of unknown width (some PTYs report 0 columns) would truncate progress to nothing.
  if (!stream.isTTY || !stream.columns || env.CI === 'true' || env.TERM === 'dumb') return 'plain';
  return 'tty';
}
