import { Args, Flags } from '@oclif/core';
import { KoalaCommand } from '../../cli/base.ts';
import { clusterFlags, clusterSelection } from '../../cli/cluster-flag.ts';
import type { UsersKubeconfigJson } from '../../cli/results.ts';

export default class UsersKubeconfig extends KoalaCommand {
  static override summary = 'Write a kubeconfig for a persona: admin, edit or view.';
  static override description = [
    'Each persona is bound to the built-in ClusterRole of its name in every platform namespace,',
    'SparkApplications included. By default the kubeconfig holds a client certificate',
    "(CN=koala-<persona>, O=<its group>) signed through the cluster's CSR API;",
    '--method token uses a ServiceAccount token instead. The file is written with mode 0600.',
  ].join(' ');
  static override examples = [
    '<%= config.bin %> users kubeconfig view',
    '<%= config.bin %> users kubeconfig edit --output ./edit.kubeconfig',
    '<%= config.bin %> users kubeconfig admin --method token --hours 8',
  ];
  static override args = {
    persona: Args.string({ description: 'admin, edit or view', required: true, options: ['admin', 'edit', 'view'] }),
  };
  static override flags = {
    ...clusterFlags,
    output: Flags.string({
      char: 'o',
      description: 'Where to write it (default: ~/.koala/clusters/<name>/users/<persona>.kubeconfig).',
    }),
    method: Flags.string({
      description: 'cert: client certificate via the CSR API; token: ServiceAccount token.',
      options: ['cert', 'token'],
      default: 'cert',
    }),
    hours: Flags.integer({
      description: 'How long the certificate or token is valid.',
      default: 24,
      min: 1,
      max: 24 * 365,
    }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(UsersKubeconfig);
    this.setup(flags);
    const loaded = await this.loadConfig(flags.config, clusterSelection(flags));
    const { existingClusterContext } = await import('../../orchestration/contexts.ts');
    const { persona } = await import('../../components/rbac/personas.ts');
    const { writePersonaKubeconfig } = await import('../../components/rbac/kubeconfig.ts');
    const chosen = persona(args.persona)!;
    const result = await writePersonaKubeconfig(existingClusterContext(loaded), chosen, {
      method: flags.method as 'cert' | 'token',
      expirationSeconds: flags.hours * 3600,
      signal: this.signal,
      ...(flags.output ? { output: flags.output } : {}),
      report: (line) => this.note(line),
    });
    if (this.mode === 'json')
      return this.printJson<UsersKubeconfigJson>({ ok: true, ...result, persona: chosen.name, group: chosen.group });
    const identity =
      result.method === 'cert'
        ? `client certificate for ${result.user} in group ${chosen.group}`
        : `token of ServiceAccount ${chosen.serviceAccount}`;
    const expiry = result.expiresAt ? `, valid until ${result.expiresAt}` : '';
    this.log(`Wrote ${result.file} (mode 0600): ${chosen.name} persona (${chosen.summary}), ${identity}${expiry}.`);
    this.log(`Use it: KUBECONFIG=${result.file} kubectl get sparkapplications -n ${result.namespace}`);
  }
}
