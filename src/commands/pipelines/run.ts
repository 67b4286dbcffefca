import { Args, Flags } from '@oclif/core';
import { KoalaCommand } from '../../cli/base.ts';
import { clusterFlags, clusterSelection } from '../../cli/cluster-flag.ts';
import { tasksNamespaceFlag } from '../../cli/tasks-flags.ts';
import type { PipelinesRunJson } from '../../cli/results.ts';
import { EXIT } from '../../util/errors.ts';

export default class PipelinesRun extends KoalaCommand {
  static override summary = 'Start a run of a batch pipeline now, outside its schedule.';
  static override description =
    "The run is a Job made from the pipeline's CronJob, as a scheduled run is; it has the same retries, " +
    'timeout and history. With --wait koala waits for it to end and exits non-zero when it failed.';
  static override examples = [
    '<%= config.bin %> pipelines run nightly',
    '<%= config.bin %> pipelines run nightly --wait',
  ];
  static override args = { pipeline: Args.string({ description: 'The pipeline name.', required: true }) };
  static override flags = {
    ...clusterFlags,
    namespace: tasksNamespaceFlag,
    wait: Flags.boolean({ description: 'Wait for the run to end; exit 1 when it failed.' }),
    timeout: Flags.integer({ description: 'With --wait: give up after this many seconds.', default: 3600, min: 1 }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(PipelinesRun);
    this.setup(flags);
    const loaded = await this.loadConfig(flags.config, clusterSelection(flags));
    const { startRun, waitForRun } = await import('../../pipelines/batch-run.ts');
    const { existingClusterContext } = await import('../../orchestration/contexts.ts');
    const kube = await existingClusterContext(loaded).kube();
    const namespace = flags.namespace;
    const run = await startRun(kube, namespace, args.pipeline);
    const base = { pipeline: args.pipeline, namespace, run };
    if (!flags.wait) {
      if (this.mode === 'json') return this.printJson<PipelinesRunJson>({ ok: true, ...base });
      this.log(`Started ${run}. \`koala pipelines history ${args.pipeline} -n ${namespace}\` shows its steps.`);
      return;
    }
    if (this.mode !== 'json') this.note(`Started ${run}; waiting for it to end.`);
    const record = await waitForRun(kube, namespace, run, {
      timeoutMs: flags.timeout * 1000,
      signal: this.signal,
    });
    const ok = record.state === 'succeeded';
    if (this.mode === 'json') this.printJson<PipelinesRunJson>({ ok, ...base, record });
    else {
      const { renderHistory } = await import('../../ui/pipelines.ts');
      const text = renderHistory({
        name: args.pipeline,
        namespace,
        schedule: '',
        suspended: false,
        expired: false,
        runs: [record],
      });
      if (ok) this.log(text);
      else
        process.stderr.write(
          `${text}\nError: ${run} failed.\n→ \`koala pipelines logs ${args.pipeline} --step <step> --run ${run}\` ` +
            'shows what a step printed; fix it and deploy again.\n',
        );
    }
    if (!ok) this.exitWith(EXIT.failure);
  }
}
