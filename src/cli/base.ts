import { Command, Flags, type Interfaces } from '@oclif/core';
import type { Input, ParserOutput } from '@oclif/core/interfaces';
import { loadConfig, type LoadedConfig } from '../config/load.ts';
import { setCommandLogger } from '../tools/exec.ts';
import { detectMode, type OutputMode } from '../ui/mode.ts';
import { renderError } from '../ui/errors.ts';
import { EXIT, KoalaError } from '../util/errors.ts';
import type { ErrorJson, JsonDocument } from './results.ts';

/** oclif's parse output shapes (not exported by @oclif/core). */
type Output = { [name: string]: unknown };

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<
  (typeof KoalaCommand)['baseFlags'] & T['flags']
>;

/**
 * What every koala command shares: --json / --verbose / --config, the output mode, Ctrl-C
 * handling, config loading, and errors that end with what to do next. Commands stay thin: they
 * parse flags, call the core and render.
 */
export abstract class KoalaCommand extends Command {
  static override baseFlags = {
    json: Flags.boolean({ description: 'Print one JSON document on stdout, for scripts.', helpGroup: 'OUTPUT' }),
    verbose: Flags.boolean({
      char: 'v',
      description: 'Show every external command koala runs (secrets redacted).',
      helpGroup: 'OUTPUT',
    }),
    config: Flags.string({
      description: 'Path of koala.yaml (default: ./koala.yaml or the nearest one above, up to the git root).',
      env: 'KOALA_CONFIG',
      helpGroup: 'CONFIG',
    }),
  };

  protected mode: OutputMode = 'plain';
  private readonly aborter = new AbortController();
  private interrupts = 0;

  /** Aborted on Ctrl-C: pass it to the core so child processes and watches stop. */
  protected get signal(): AbortSignal {
    return this.aborter.signal;
  }

  override async init(): Promise<void> {
    await super.init();
    const onSigint = (): void => {
      this.interrupts += 1;
      if (this.interrupts > 1) process.exit(EXIT.interrupted); // a second Ctrl-C means now
      process.stderr.write('\nStopping (Ctrl-C again to quit at once)…\n');
      this.aborter.abort(new KoalaError('Interrupted', { exitCode: EXIT.interrupted }));
    };
    process.on('SIGINT', onSigint);
    process.on('SIGTERM', onSigint);
  }

  protected setup(flags: { json?: boolean; verbose?: boolean }): void {
    this.mode = detectMode({ json: flags.json ?? false });
    if (flags.verbose) setCommandLogger((line) => process.stderr.write(`${line}\n`));
  }

  protected async loadConfig(
    configFile: string | undefined,
    flags: Array<{ path: string; value: unknown; flag: string }> = [],
  ): Promise<LoadedConfig> {
    const loaded = await loadConfig({
      cwd: process.cwd(),
      processEnv: process.env,
      ...(configFile ? { configFile } : {}),
      flags,
    });
    for (const warning of loaded.warnings) this.note(`warning: ${warning}`);
    return loaded;
  }

  /** A line for people (stderr in json mode, so stdout stays one document). */
  protected note(line: string): void {
    if (this.mode === 'json') process.stderr.write(`${line}\n`);
    else this.log(line);
  }

  /**
   * The one JSON document of --json. The type argument is required (`never` otherwise, which no
   * value fits): every command names the document it prints, one of src/cli/results.ts, whose
   * schemas are snapshotted.
   */
  protected printJson<T extends JsonDocument = never>(value: NoInfer<T>): void {
    process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /**
   * Every error from parsing argv is bad input: exit 2, with what is accepted and where to read
   * more. Caught here, where it is thrown, because oclif's errors cannot be told apart later:
   * every CLIError carries `oclif.exit` and a `skipOclifErrorHandling` field, and the flag and
   * argument parse functions throw plain Errors.
   */
  protected override async parse<F extends Output, B extends Output, A extends Output>(
    options?: Input<F, B, A>,
    argv: string[] = this.argv,
  ): Promise<ParserOutput<F, B, A>> {
    try {
      return await super.parse(options, argv);
    } catch (error) {
      if (error instanceof KoalaError || (error as { code?: string }).code === 'EEXIT') throw error;
      // No setup() ran: --json still asks for a JSON error.
      if (argv.includes('--json')) this.mode = 'json';
      const ctor = (options ?? this.ctor) as { flags?: Record<string, unknown>; baseFlags?: Record<string, unknown> };
      const flags = Object.keys({ ...ctor.baseFlags, ...ctor.flags }).map((f) => `--${f}`);
      throw usageError(error, `koala ${this.id?.replaceAll(':', ' ') ?? ''}`.trimEnd(), flags);
    }
  }

  override async catch(error: Error & { code?: string }): Promise<void> {
    // exitWith()/this.exit(): the command has already said what it had to; oclif exits quietly.
    if (error.code === 'EEXIT') throw error;
    const exitCode = error instanceof KoalaError ? error.exitCode : EXIT.failure;
    if (this.mode === 'json')
      this.printJson<ErrorJson>({
        ok: false,
        error: { message: error.message, ...(error instanceof KoalaError && error.hint ? { hint: error.hint } : {}) },
      });
    else process.stderr.write(`${renderError(error)}\n`);
    process.exitCode = exitCode;
    return this.exit(exitCode);
  }

  protected exitWith(code: number): never {
    process.exitCode = code;
    return this.exit(code);
  }
}

/** oclif's parse error in koala's words: what was wrong, what is accepted, and `--help`. */
export function usageError(error: unknown, command: string, flags: readonly string[]): KoalaError {
  let message = (error instanceof Error ? error.message : String(error)).replace(
    /\n+See more help with --help\s*$/,
    '',
  );
  // "Parsing --workers \n\tExpected an integer but received: abc"
  message = message.replace(/^Parsing (--[\w-]+) ?\n\t/, '$1: ');
  const unknown = /^Nonexistent flags?: (.*)$/s.exec(message);
  if (unknown)
    message = `Unknown flag${unknown[1]!.includes(',') ? 's' : ''}: ${unknown[1]} (accepted: ${flags.join(', ')})`;
  return new KoalaError(message, {
    exitCode: EXIT.usage,
    hint: `Run \`${command} --help\` for the accepted flags and arguments; nothing was changed.`,
    cause: error,
  });
}
