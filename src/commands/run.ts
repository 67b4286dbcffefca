import { Args, Flags } from '@oclif/core';
import { KoalaCommand } from '../cli/base.ts';
import { clusterFlags, clusterSelection } from '../cli/cluster-flag.ts';
import { parseBuildArgs } from '../cli/jobs-flags.ts';
import type { RunDetachedJson, RunDryRunJson, RunFinishedJson, RunSubmittedFields } from '../cli/results.ts';
import type { PlatformContext } from '../orchestration/context.ts';
import { EXIT, KoalaError } from '../util/errors.ts';

export default class Run extends KoalaCommand {
  static override summary =
    'Run a Spark app on the cluster and follow it to the end: build if needed, submit, stream the driver log.';
  static override description = [
    'Each run is a new SparkApplication (<app>-<n>); older finished runs of the same app and file are pruned beyond',
    'keepRuns. A manifest (-f) is checked against the SparkApplication schema of the operator koala installs',
    'before any cluster is needed, then by the API server against the installed CRD (a server-side dry run)',
    'before it is created. ConfigMaps and Secrets in the same file are applied with the run, in its namespace;',
    'a ScheduledSparkApplication runs its template once.\nWhile following, the reason a pod is not starting is',
    'shown; a driver whose image cannot be pulled, or that misses a ConfigMap or Secret for 30s, stops the',
    'command.\nExits 0 when the run COMPLETED, 1 with the error and the driver log tail when it FAILED.',
    'Ctrl-C asks whether to stop the run.',
  ].join(' ');
  static override examples = [
    '<%= config.bin %> run pagerank',
    '<%= config.bin %> run -f spark-applications/pagerank/pagerank.yml',
    '<%= config.bin %> run -f spark-pi.yaml --dry-run',
    '<%= config.bin %> run pagerank --detach',
  ];
  static override args = { app: Args.string({ description: 'App name (spark-applications/<name>) or folder.' }) };
  static override flags = {
    ...clusterFlags,
    file: Flags.string({ char: 'f', description: 'Run an existing SparkApplication manifest instead of an app.' }),
    namespace: Flags.string({
      char: 'n',
      description: "Job namespace (default: the app's, the manifest's, or the first of spark.jobNamespaces).",
    }),
    detach: Flags.boolean({ char: 'd', description: 'Return once the run is submitted.' }),
    load: Flags.boolean({ description: 'Deliver the image with `kind load` instead of the registry.' }),
    'build-arg': Flags.string({ description: 'A Docker build argument KEY=VALUE (repeatable).', multiple: true }),
    image: Flags.string({ description: 'Use this image as is (no build).' }),
    'service-account': Flags.string({ description: "The driver's ServiceAccount (default: the operator chart's)." }),
    'keep-runs': Flags.integer({
      description: 'Finished runs of this app to keep (default: keepRuns in spark-app.yaml, else 5).',
      min: 1,
    }),
    'no-logs': Flags.boolean({ description: 'Follow states and pods but do not stream the driver log.' }),
    'dry-run': Flags.boolean({
      description: 'With -f: check the manifest and print what would be submitted; no cluster is needed.',
    }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Run);
    this.setup(flags);
    if (!args.app === !flags.file)
      throw new KoalaError('Give an app name or -f <file>, not both and not neither', {
        exitCode: EXIT.usage,
        hint: 'Example: `koala run pagerank` or `koala run -f pagerank.yml`.',
      });
    if (flags['dry-run'] && !flags.file) {
      const hint = 'Example: `koala run -f spark-pi.yaml --dry-run`.';
      throw new KoalaError('--dry-run checks a manifest: use it with -f <file>', { exitCode: EXIT.usage, hint });
    }
    const loaded = await this.loadConfig(flags.config, clusterSelection(flags));
    const { existingClusterContext } = await import('../orchestration/contexts.ts');
    const { submit, followRun, dryRunFile } = await import('../jobs/run.ts');
    const { renderBlocked, renderBuild, renderRunEvent } = await import('../ui/jobs.ts');
    const ctx = existingClusterContext(loaded);
    const started = performance.now();
    const notices: string[] = [];
    const onNotice = (line: string): void => {
      notices.push(line);
      this.note(`notice: ${line}`);
    };

    if (flags['dry-run']) {
      // stdout is the manifests alone (YAML, or one JSON document); people's lines go to stderr.
      const say = (line: string): boolean => process.stderr.write(`${line}\n`);
      const planned = await dryRunFile({
        ctx,
        file: flags.file!,
        signal: this.signal,
        onNotice: (line) => {
          notices.push(line);
          say(`notice: ${line}`);
        },
        ...(flags.namespace ? { namespace: flags.namespace } : {}),
        ...(flags['service-account'] ? { serviceAccount: flags['service-account'] } : {}),
        ...(flags.image ? { image: flags.image } : {}),
      });
      const { manifests } = planned;
      if (this.mode === 'json') return this.printJson<RunDryRunJson>({ ok: true, dryRun: true, manifests, notices });
      const { stringify } = await import('yaml');
      this.log(manifests.map((m) => stringify(m).trimEnd()).join('\n---\n'));
      say(`${flags.file} is valid; nothing was submitted (the run number is chosen at submit).`);
      return;
    }

    const submitted = await submit({
      ctx,
      onNotice,
      ...(args.app ? { app: args.app } : {}),
      ...(flags.file ? { file: flags.file } : {}),
      ...(flags.namespace ? { namespace: flags.namespace } : {}),
      ...(flags['service-account'] ? { serviceAccount: flags['service-account'] } : {}),
      ...(flags.image ? { image: flags.image } : {}),
      ...(flags['keep-runs'] ? { keepRuns: flags['keep-runs'] } : {}),
      buildArgs: parseBuildArgs(flags['build-arg']),
      load: flags.load,
      signal: this.signal,
      ...(flags.verbose ? { onBuildLine: (l: string) => process.stderr.write(`  ${l}\n`) } : {}),
    });
    const { name, namespace } = submitted;
    if (submitted.build) this.note(renderBuild(submitted.build));
    if (submitted.applied.length) this.note(`applied ${submitted.applied.join(', ')} in ${namespace}`);
    const pruned = submitted.pruned.length ? ` (pruned ${submitted.pruned.join(', ')})` : '';
    this.note(`submitted ${namespace}/${name} in ${Math.round(submitted.submitMs)}ms${pruned}`);
    const base: RunSubmittedFields = {
      run: name,
      namespace,
      submitMs: Math.round(submitted.submitMs),
      phases: submitted.phases,
      ...(submitted.build ? { build: submitted.build } : {}),
      pruned: submitted.pruned,
      applied: submitted.applied,
      notices,
    };
    if (flags.detach) {
      if (this.mode === 'json')
        return this.printJson<RunDetachedJson>({ ok: true, ...base, state: 'SUBMITTED', detached: true });
      this.log(`Follow it with \`koala logs ${name} -f\`; \`koala apps status ${name}\` shows its state.`);
      return;
    }

    const result = await followRun(await ctx.kube(), {
      namespace,
      name,
      signal: this.signal,
      logs: !flags['no-logs'],
      onEvent: (event) => this.note(renderRunEvent(event, started)),
    });

    if (this.signal.aborted) return this.interrupted(ctx, name, namespace, result.state);
    if (result.blocked) {
      const { message, hint } = renderBlocked(name, namespace, result.blocked, submitted.run.spec.image);
      throw new KoalaError(message, { hint });
    }
    const ok = result.state === 'COMPLETED';
    const durationMs = performance.now() - started;
    if (this.mode === 'json')
      this.printJson<RunFinishedJson>({
        ok,
        ...base,
        state: result.state,
        durationMs: Math.round(durationMs),
        ...(result.errorMessage ? { errorMessage: result.errorMessage } : {}),
        ...(ok ? {} : { driverLogTail: result.driverLogTail }),
      });
    if (ok) {
      if (this.mode !== 'json') this.log(`${name} COMPLETED in ${Math.round(durationMs / 1000)}s.`);
      return;
    }
    if (this.mode !== 'json') {
      const tail = result.driverLogTail.length
        ? `\nLast lines of the driver log:\n${result.driverLogTail.map((l) => `  ${l}`).join('\n')}`
        : '\n(no driver log)';
      const reason = result.errorMessage ? `: ${result.errorMessage}` : '';
      process.stderr.write(
        `Error: ${name} ${result.state}${reason}${tail}\n` +
          `→ \`koala apps events ${name}\` shows what the operator and Kubernetes reported; ` +
          'fix the app and `koala run` again.\n',
      );
    }
    this.exitWith(EXIT.failure);
  }

  /** Ctrl-C while following: the run goes on unless the user says to stop it. */
  private async interrupted(ctx: PlatformContext, name: string, namespace: string, state: string): Promise<void> {
    let stop = false;
    if (this.mode === 'tty' && process.stdin.isTTY) {
      const { confirm } = await import('@inquirer/prompts');
      stop = await confirm({ message: `Stop ${name} too (it is ${state || 'submitted'})?`, default: false }).catch(
        () => false,
      );
    }
    if (stop) {
      const { stopRun } = await import('../jobs/apps.ts');
      await stopRun(await ctx.kube(), namespace, name);
      this.note(`${name} stopped (deleted).`);
    } else {
      this.note(
        `${name} keeps running: \`koala logs ${name} -f\` follows it again, \`koala apps delete ${name}\` stops it.`,
      );
    }
    this.exitWith(EXIT.interrupted);
  }
}
