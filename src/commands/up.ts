import { Flags } from '@oclif/core';
import { KoalaCommand } from '../cli/base.ts';
import { clusterFlags, clusterSelection } from '../cli/cluster-flag.ts';
import type { UpDryRunJson, UpRunJson } from '../cli/results.ts';
import { EXIT, KoalaError } from '../util/errors.ts';

export default class Up extends KoalaCommand {
  static override summary =
    'Create the local data platform: an HA kind cluster, a registry, and the platform components.';
  static override description =
    'Each step checks whether its work is already done, so a second `koala up` changes nothing ' +
    'and an `up` after a failure or Ctrl-C resumes where it stopped.';
  static override examples = [
    '<%= config.bin %> up',
    '<%= config.bin %> up --workers 1 --control-planes 1',
    '<%= config.bin %> up --dry-run',
    '<%= config.bin %> up --only airflow',
  ];

  static override flags = {
    ...clusterFlags,
    'control-planes': Flags.integer({
      description: 'Control-plane nodes: 1, 3 or 5 (cluster.controlPlanes).',
      helpGroup: 'CLUSTER',
    }),
    workers: Flags.integer({ description: 'Worker nodes (cluster.workers).', helpGroup: 'CLUSTER' }),
    'kubernetes-version': Flags.string({
      description: 'Kubernetes version of the nodes (cluster.kubernetesVersion).',
      helpGroup: 'CLUSTER',
    }),
    'registry-port': Flags.integer({
      description: 'Host port of the local registry (registry.port).',
      helpGroup: 'CLUSTER',
    }),
    recreate: Flags.boolean({ description: 'Delete and recreate the cluster when it exists (its data is lost).' }),
    'dry-run': Flags.boolean({ description: 'Print the plan (commands and manifests) and execute nothing.' }),
    only: Flags.string({
      description: 'Run only these steps (comma-separated); the steps they need must already be done.',
      multiple: true,
      delimiter: ',',
    }),
    skip: Flags.string({ description: 'Leave these steps out (comma-separated).', multiple: true, delimiter: ',' }),
    yes: Flags.boolean({
      char: 'y',
      description:
        'Answer yes: fetch the pinned kind, helm or kubectl when one is missing or too old, and install onto a ' +
        '--context koala did not create.',
    }),
    'ignore-checks': Flags.string({
      description:
        'Go on although these preflight checks fail ' +
        '(comma-separated check ids from `koala doctor --json`; or KOALA_IGNORE_CHECKS).',
      multiple: true,
      delimiter: ',',
    }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Up);
    this.setup(flags);
    const loaded = await this.loadConfig(flags.config, [
      ...clusterSelection(flags),
      { path: 'cluster.controlPlanes', value: flags['control-planes'], flag: 'control-planes' },
      { path: 'cluster.workers', value: flags.workers, flag: 'workers' },
      { path: 'cluster.kubernetesVersion', value: flags['kubernetes-version'], flag: 'kubernetes-version' },
      { path: 'registry.port', value: flags['registry-port'], flag: 'registry-port' },
    ]);
    const request = {
      loaded,
      recreate: flags.recreate,
      ...(flags.only ? { only: flags.only } : {}),
      ...(flags.skip ? { skip: flags.skip } : {}),
      ignoreChecks:
        flags['ignore-checks'] ??
        process.env.KOALA_IGNORE_CHECKS?.split(',')
          .map((s) => s.trim())
          .filter(Boolean) ??
        [],
      signal: this.signal,
    };

    if (flags['dry-run']) {
      const { planUpDry } = await import('../orchestration/up.ts');
      const { plan, notes } = planUpDry(request);
      const description = await plan.describe();
      if (this.mode === 'json') {
        return this.printJson<UpDryRunJson>({ dryRun: true, steps: description, notes });
      }
      const { renderPlan } = await import('../ui/plan.ts');
      this.log(await renderPlan(description));
      for (const n of notes) this.log(`note: ${n}`);
      return;
    }

    const { offerTools } = await import('../cli/tools-offer.ts');
    await offerTools(loaded.config, { yes: flags.yes, signal: this.signal, log: (l) => this.note(l) });
    const { prepareUp } = await import('../orchestration/up.ts');
    const { runWithProgress } = await import('../ui/progress.ts');
    const { renderSummary, resultJson } = await import('../ui/summary.ts');
    const { upSummary } = await import('../orchestration/summary.ts');
    const prepared = await prepareUp(request);
    for (const o of prepared.preflight.filter((x) => x.status === 'warn'))
      this.note(`warning: ${o.title}: ${o.detail}${o.fix ? ` (fix: ${o.fix})` : ''}`);
    for (const n of prepared.notes) this.note(n);
    if (prepared.consent && !(await this.agree(prepared.consent, prepared.ctx.home, flags.yes))) {
      this.log('Nothing was installed.');
      return;
    }
    const result = await runWithProgress(prepared.plan, { mode: this.mode, signal: this.signal });
    const summary = upSummary(prepared.ctx, result);
    if (this.mode === 'json')
      this.printJson<UpRunJson>({
        ...resultJson(result),
        cluster: prepared.ctx.spec,
        endpoints: summary.endpoints ?? [],
      });
    else this.log(renderSummary({ ...summary, notes: prepared.notes }));
    if (!result.ok) this.exitWith(result.interrupted ? EXIT.interrupted : EXIT.failure);
  }

  /** The first `up` on a cluster koala did not create asks first; the answer is kept for that server. */
  private async agree(consent: { context: string; server: string }, home: string, yes: boolean): Promise<boolean> {
    const { writeConsent } = await import('../orchestration/state.ts');
    const what = `context "${consent.context}" (${consent.server}), a cluster koala did not create`;
    if (!yes) {
      if (this.mode !== 'tty' || !process.stdin.isTTY) {
        throw new KoalaError(`koala up would install the platform onto ${what}, and needs your yes first`, {
          hint: 'Add --yes to agree from a script; nothing was changed.',
          exitCode: EXIT.usage,
        });
      }
      const { confirm } = await import('@inquirer/prompts');
      const message = `Install koala's platform (namespaces, Helm releases, RBAC) onto ${what}?`;
      if (!(await confirm({ message, default: false }, { signal: this.signal }))) return false;
    }
    await writeConsent(home, consent);
    return true;
  }
}
