import { Command, Flags, type Interfaces } from '@oclif/core';
import { loadConfig, type LoadedConfig } from '../config/load.ts';
import { setCommandLogger } from '../tools/exec.ts';
import { detectMode, type OutputMode } from '../ui/mode.ts';
import { renderError } from '../ui/errors.ts';
import { EXIT, KoalaError } from '../util/errors.ts';

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof KoalaCommand)['baseFlags'] & T['flags']>;

/**
 * What every koala command shares: --json / --verbose / --config, the output mode, Ctrl-C
 * handling, config loading, and errors that end with what to do next. Commands stay thin: they
 * parse flags, call the core and render.
 */
export abstract class KoalaCommand extends Command {
  static override baseFlags = {
    json: Flags.boolean({ description: 'Print one JSON document on stdout, for scripts.', helpGroup: 'OUTPUT' }),
    verbose: Flags.boolean({ char: 'v', description: 'Show every external command koala runs (secrets redacted).', helpGroup: 'OUTPUT' }),
    config: Flags.string({ description: 'Path of koala.yaml (default: ./koala.yaml or the nearest one above, up to the git root).', env: 'KOALA_CONFIG', helpGroup: 'CONFIG' }),
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

  protected async loadConfig(configFile: string | undefined, flags: Array<{ path: string; value: unknown; flag: string }> = []): Promise<LoadedConfig> {
    const loaded = await loadConfig({ cwd: process.cwd(), processEnv: process.env, ...(configFile ? { configFile } : {}), flags });
    for (const warning of loaded.warnings) this.note(`warning: ${warning}`);
    return loaded;
  }

  /** A line for people (stderr in json mode, so stdout stays one document). */
  protected note(line: string): void {
    if (this.mode === 'json') process.stderr.write(`${line}\n`);
    else this.log(line);
  }

  protected printJson(value: unknown): void {
    process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  override async catch(error: Error & { exitCode?: number; oclif?: { exit?: number }; code?: string }): Promise<void> {
    // exitWith()/this.exit(): the command has already said what it had to; oclif exits quietly.
    if (error.code === 'EEXIT') throw error;
    // oclif's own parse errors (unknown flag, bad value) are bad input: exit 2 like other input errors.
    if (!(error instanceof KoalaError) && error.oclif?.exit !== undefined && !('skipOclifErrorHandling' in error)) {
      if (error.oclif.exit === 0) return super.catch(error);
      error = new KoalaError(error.message, { exitCode: EXIT.usage, hint: `Run \`koala ${this.id?.replaceAll(':', ' ') ?? ''} --help\` for the accepted flags.` });
    }
    const exitCode = error instanceof KoalaError ? error.exitCode : EXIT.failure;
    if (this.mode === 'json') this.printJson({ ok: false, error: { message: error.message, ...(error instanceof KoalaError && error.hint ? { hint: error.hint } : {}) } });
    else process.stderr.write(`${renderError(error)}\n`);
    process.exitCode = exitCode;
    return this.exit(exitCode);
  }

  protected exitWith(code: number): never {
    process.exitCode = code;
    return this.exit(code);
  }
}
