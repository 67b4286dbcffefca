import { Args, Flags } from '@oclif/core';
import { KoalaCommand } from '../cli/base.ts';
import { clusterFlags, clusterSelection } from '../cli/cluster-flag.ts';
import type { PortForwardJson } from '../cli/results.ts';

export default class PortForward extends KoalaCommand {
  static override summary =
    'Reach the Spark UI of a run, Airflow or the object store from this machine, through the API server.';
  static override description =
    'Picks a free local port (or --port) and prints the URL. ' +
    'Each new connection goes to the current pod, so a replaced pod is picked up. Ctrl-C closes everything.';
  static override examples = [
    '<%= config.bin %> port-forward pagerank',
    '<%= config.bin %> port-forward airflow --port 8080',
    '<%= config.bin %> port-forward object-store-console',
  ];
  static override args = {
    target: Args.string({
      description: 'A run or app (its Spark UI), or airflow, object-store, object-store-console.',
      required: true,
    }),
  };
  static override flags = {
    ...clusterFlags,
    port: Flags.integer({ char: 'p', description: 'Local port (default: a free one).', min: 1, max: 65535 }),
    namespace: Flags.string({ char: 'n', description: 'Job namespace of the run.' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(PortForward);
    this.setup(flags);
    const loaded = await this.loadConfig(flags.config, clusterSelection(flags));
    const { existingClusterContext } = await import('../orchestration/contexts.ts');
    const { sparkPlatform } = await import('../jobs/spark-platform.ts');
    const { planForward, forward } = await import('../jobs/forward.ts');
    const kube = await existingClusterContext(loaded).kube();
    const plan = await planForward(kube, sparkPlatform(loaded.config), args.target, flags.namespace);
    let lastPod = '';
    const forwarder = await forward(kube, plan, {
      ...(flags.port ? { localPort: flags.port } : {}),
      signal: this.signal,
      onEvent: (e) => {
        if (e.type === 'error') process.stderr.write(`${e.message}\n`);
        else {
          const id = `${e.target.pod}/${e.target.uid ?? ''}`;
          if (lastPod && id !== lastPod)
            process.stderr.write(`now forwarding to ${e.target.pod} (the pod was replaced)\n`);
          lastPod = id;
        }
      },
    });
    const url = plan.url(forwarder.localPort);
    if (this.mode === 'json')
      this.printJson<PortForwardJson>({ ok: true, target: args.target, url, localPort: forwarder.localPort });
    else this.log(`Forwarding ${url} → ${plan.title}. Ctrl-C to stop.`);
    await forwarder.closed;
  }
}
