import { Args, Flags } from '@oclif/core';
import { KoalaCommand } from '../../cli/base.ts';
import { clusterFlags, clusterSelection } from '../../cli/cluster-flag.ts';
import type { AppsEventsJson } from '../../cli/results.ts';

export default class AppsEvents extends KoalaCommand {
  static override summary = 'Show the events of a run and its pods (what the operator and Kubernetes reported).';
  static override examples = ['<%= config.bin %> apps events pagerank'];
  static override args = { target: Args.string({ description: 'A run, or an app (its newest run).', required: true }) };
  static override flags = { ...clusterFlags, namespace: Flags.string({ char: 'n', description: 'Job namespace.' }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(AppsEvents);
    this.setup(flags);
    const loaded = await this.loadConfig(flags.config, clusterSelection(flags));
    const { existingClusterContext } = await import('../../orchestration/contexts.ts');
    const { sparkPlatform } = await import('../../jobs/spark-platform.ts');
    const { resolveRun, runEvents } = await import('../../jobs/apps.ts');
    const kube = await existingClusterContext(loaded).kube();
    const run = await resolveRun(kube, sparkPlatform(loaded.config), args.target, flags.namespace);
    const events = await runEvents(kube, run);
    if (this.mode === 'json') return this.printJson<AppsEventsJson>({ ok: true, run: run.metadata.name, events });
    const { renderRunEvents } = await import('../../ui/jobs.ts');
    this.log(renderRunEvents(events));
  }
}
