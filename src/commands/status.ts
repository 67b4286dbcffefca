import { KoalaCommand } from '../cli/base.ts';
import { clusterFlags, clusterSelection } from '../cli/cluster-flag.ts';
import { EXIT } from '../util/errors.ts';
import type { StatusJson } from '../cli/results.ts';

export default class Status extends KoalaCommand {
  static override summary = 'Show the cluster, its nodes, the registry and the health of every component.';
  static override description = 'Exits non-zero when anything is unhealthy, so scripts can wait on it.';
  static override examples = ['<%= config.bin %> status', '<%= config.bin %> status --json'];
  static override flags = { ...clusterFlags };

  async run(): Promise<void> {
    const { flags } = await this.parse(Status);
    this.setup(flags);
    const loaded = await this.loadConfig(flags.config, clusterSelection(flags));
    const { existingClusterContext } = await import('../orchestration/contexts.ts');
    const { collectStatus } = await import('../orchestration/status.ts');
    const status = await collectStatus(existingClusterContext(loaded), this.signal);
    if (this.mode === 'json') this.printJson<StatusJson>(status);
    else {
      const { renderStatus } = await import('../ui/status.ts');
      this.log(renderStatus(status));
    }
    if (!status.healthy) this.exitWith(EXIT.failure);
  }
}
