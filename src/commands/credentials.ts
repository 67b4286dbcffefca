import { KoalaCommand } from '../cli/base.ts';
import { clusterFlags, clusterSelection } from '../cli/cluster-flag.ts';
import { EXIT, KoalaError } from '../util/errors.ts';
import type { CredentialsJson } from '../cli/results.ts';

export default class Credentials extends KoalaCommand {
  static override summary =
    "Show the platform's credentials: Airflow's admin user, the object store's keys and the gateway's access groups.";
  static override description =
    "They are random per cluster (or yours, from .env.private), kept in Secrets and in a 0600 file in koala's " +
    'state directory; koala never prints them anywhere else.';
  static override examples = ['<%= config.bin %> credentials', '<%= config.bin %> credentials --json'];
  static override flags = {
    ...clusterFlags,
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Credentials);
    this.setup(flags);
    const loaded = await this.loadConfig(flags.config, clusterSelection(flags));
    const { existingClusterContext } = await import('../orchestration/contexts.ts');
    const { storedCredentials } = await import('../components/foundation/index.ts');
    const { portForwardTargets } = await import('../components/endpoints.ts');
    const ctx = existingClusterContext(loaded);
    const stored = await storedCredentials(ctx);
    if (!stored) {
      throw new KoalaError(`No credentials for cluster "${ctx.spec.name}" yet`, {
        hint: 'Run `koala up`: it generates them (or takes yours from .env.private).',
        exitCode: EXIT.failure,
      });
    }
    const c = stored.credentials;
    const targets = portForwardTargets(loaded.config);
    const { gatewayAccess } = await import('../components/gateway/sync.ts');
    // The groups live only in the cluster; without it the file's credentials are still shown.
    let unreachable: string | undefined;
    const gateway = await ctx
      .kube()
      .then((kube) => gatewayAccess(kube, loaded.config))
      .catch((error: unknown) => {
        unreachable = error instanceof Error ? error.message : String(error);
        return [];
      });
    if (this.mode === 'json')
      return this.printJson<CredentialsJson>({
        ok: true,
        file: stored.file,
        source: stored.source,
        credentials: {
          airflow: { username: c.airflow.username, password: c.airflow.password },
          objectStore: { accessKey: c.objectStore.accessKey, secretKey: c.objectStore.secretKey },
        },
        gateway,
      });
    const { table } = await import('../ui/table.ts');
    this.log(
      table(
        ['SERVICE', 'USER / ACCESS KEY', 'PASSWORD / SECRET KEY', 'REACH IT WITH'],
        [
          [
            'Airflow UI',
            c.airflow.username,
            c.airflow.password,
            reach('airflow', targets.airflow?.localPort ?? loaded.config.ports.airflow),
          ],
          [
            `Object store (${loaded.config.objectStore.type})`,
            c.objectStore.accessKey,
            c.objectStore.secretKey,
            loaded.config.objectStore.type === 'external'
              ? (loaded.config.objectStore.endpoint ?? '')
              : reach('object-store', targets['object-store']?.localPort ?? loaded.config.ports.objectStore),
          ],
          ...gateway.map((g) => [
            `Gateway, group ${g.group}`,
            g.username,
            g.password,
            reach('gateway', targets.gateway?.localPort ?? loaded.config.ports.gateway),
          ]),
        ],
      ),
    );
    this.log('');
    if (unreachable) this.log(`The gateway's access groups are in the cluster, which did not answer: ${unreachable}`);
    this.log(
      stored.source === 'file'
        ? `Kept in ${stored.file} (mode 0600) and in Secrets in the cluster.`
        : `Read from the cluster: ${stored.file} is missing; \`koala up\` writes it again.`,
    );
  }
}

/** The host port a service answers on, and the command that opens a tunnel to it instead. */
const reach = (target: string, port: number): string => `http://127.0.0.1:${port} or koala port-forward ${target}`;
