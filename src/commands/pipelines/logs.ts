import { Args, Flags } from '@oclif/core';
import { KoalaCommand } from '../../cli/base.ts';
import { clusterFlags, clusterSelection } from '../../cli/cluster-flag.ts';
import { tasksNamespaceFlag } from '../../cli/tasks-flags.ts';

export default class PipelinesLogs extends KoalaCommand {
  static override summary = 'The log of one step of a batch pipeline run (the newest run unless --run).';
  static override examples = [
    '<%= config.bin %> pipelines logs nightly --step load -f',
    '<%= config.bin %> pipelines logs nightly --step load --run nightly-29391840 --previous',
  ];
  static override args = { pipeline: Args.string({ description: 'The pipeline name.', required: true }) };
  static override flags = {
    ...clusterFlags,
    namespace: tasksNamespaceFlag,
    step: Flags.string({ description: 'The step name.', required: true }),
    run: Flags.string({ description: 'The run (from `koala pipelines history`); the newest by default.' }),
    follow: Flags.boolean({ char: 'f', description: 'Keep printing until the step ends.' }),
    previous: Flags.boolean({
      description:
        "The step's attempt before the current one, while Kubernetes keeps it: for the last step, as long " +
        'as the pod exists; for the others, only until the step runs again.',
    }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(PipelinesLogs);
    this.setup(flags);
    const loaded = await this.loadConfig(flags.config, clusterSelection(flags));
    const { stepPod } = await import('../../pipelines/batch-run.ts');
    const { streamPodLog } = await import('../../kube/logs.ts');
    const { existingClusterContext } = await import('../../orchestration/contexts.ts');
    const kube = await existingClusterContext(loaded).kube();
    const target = await stepPod(kube, flags.namespace, args.pipeline, flags.step, flags.run);
    await streamPodLog(
      kube,
      {
        namespace: flags.namespace,
        pod: target.pod,
        container: target.container,
        follow: flags.follow ?? false,
        previous: flags.previous ?? false,
        signal: this.signal,
      },
      (line) => process.stdout.write(`${line}\n`),
    );
  }
}
