import { Flags } from '@oclif/core';
import { KoalaCommand } from '../cli/base.ts';
import type { InitJson } from '../cli/results.ts';

export default class Init extends KoalaCommand {
  static override summary =
    'Scaffold a koala project here: koala.yaml, spark-applications/, dags/, .gitignore and a devcontainer.';
  static override description =
    'Writes only what is missing: an existing file is kept unless --force, so running it again changes nothing. ' +
    "The devcontainer has Node, koala, and kind, helm and kubectl at koala's pinned versions.";
  static override examples = ['<%= config.bin %> init', '<%= config.bin %> init --docker in-docker'];
  static override flags = {
    force: Flags.boolean({
      description: 'Overwrite files that differ from the scaffold (and add .env.private to an existing .gitignore).',
    }),
    docker: Flags.string({
      description: "How the devcontainer reaches Docker: the host's daemon through its socket, or a daemon of its own.",
      options: ['outside-of-docker', 'in-docker'],
      default: 'outside-of-docker',
    }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Init);
    this.setup(flags);
    const { initProject } = await import('../project/init.ts');
    const result = await initProject({
      dir: process.cwd(),
      force: flags.force,
      docker: flags.docker as 'outside-of-docker' | 'in-docker',
      koalaVersion: this.config.version,
    });
    if (this.mode === 'json') return this.printJson<InitJson>({ ok: true, ...result });
    const width = Math.max(...result.files.map((f) => f.action.length));
    for (const f of result.files) this.log(`  ${f.action.padEnd(width)}  ${f.path}`);
    if (result.files.some((f) => f.action === 'kept'))
      this.log('\nKept files differ from the scaffold; `koala init --force` replaces them.');
    this.log('\nNext: `koala up` creates the platform (`koala up --dry-run` shows the plan first).');
  }
}
