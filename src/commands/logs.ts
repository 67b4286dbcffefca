import { Args, Flags } from '@oclif/core';
import { KoalaCommand } from '../cli/base.ts';
import { clusterFlags, clusterSelection } from '../cli/cluster-flag.ts';
import type { LogsJson } from '../cli/results.ts';

export default class Logs extends KoalaCommand {
  static override summary =
    'Print the driver (or an executor) log of a run; -f follows it, across pod restarts, until the run ends.';
  static override examples = [
    '<%= config.bin %> logs pagerank -f',
    '<%= config.bin %> logs pagerank-3 --executor 2',
    '<%= config.bin %> logs pagerank --tail 50',
  ];
  static override args = {
    target: Args.string({ description: 'A run (pagerank-3) or an app (its newest run).', required: true }),
  };
  static override flags = {
    ...clusterFlags,
    follow: Flags.boolean({ char: 'f', description: 'Keep printing new lines until the run has finished.' }),
    executor: Flags.integer({
      char: 'e',
      description: 'Executor id (as in the Spark UI) instead of the driver.',
      min: 1,
    }),
    tail: Flags.integer({ description: 'Only the last N lines.', min: 0 }),
    namespace: Flags.string({ char: 'n', description: 'Job namespace (default: every one in spark.jobNamespaces).' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Logs);
    this.setup(flags);
    const loaded = await this.loadConfig(flags.config, clusterSelection(flags));
    const { existingClusterContext } = await import('../orchestration/contexts.ts');
    const { sparkPlatform } = await import('../jobs/spark-platform.ts');
    const { showLogs } = await import('../jobs/logs.ts');
    const ctx = existingClusterContext(loaded);
    const lines: LogsJson['lines'] = [];
    const result = await showLogs(await ctx.kube(), sparkPlatform(loaded.config), {
      target: args.target,
      follow: flags.follow,
      ...(flags.executor !== undefined ? { executor: flags.executor } : {}),
      ...(flags.tail !== undefined ? { tailLines: flags.tail } : {}),
      ...(flags.namespace ? { namespace: flags.namespace } : {}),
      signal: this.signal,
      onLine: (l) => (this.mode === 'json' ? lines.push(l) : process.stdout.write(`${l.line}\n`)),
      onNote: (n) => process.stderr.write(`${n}\n`),
    });
    if (this.mode === 'json') this.printJson<LogsJson>({ ok: true, run: result.run, lines });
  }
}
