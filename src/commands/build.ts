import { Args, Flags } from '@oclif/core';
import { KoalaCommand } from '../cli/base.ts';
import { clusterFlags, clusterSelection } from '../cli/cluster-flag.ts';
import { parseBuildArgs } from '../cli/jobs-flags.ts';
import type { BuildJson } from '../cli/results.ts';

export default class Build extends KoalaCommand {
  static override summary =
    "Build a Spark app's image, tagged with the hash of its build context, and push it to the local registry.";
  static override description =
    'An unchanged app is neither rebuilt nor pushed: the tag says whether the registry already has it. ' +
    '--load uses `kind load` instead of the registry.';
  static override examples = [
    '<%= config.bin %> build pagerank',
    '<%= config.bin %> build pagerank --load',
    '<%= config.bin %> build pagerank --build-arg SPARK_IMAGE=my-mirror/spark:4.0.4',
  ];
  static override args = {
    app: Args.string({ description: 'App name (spark-applications/<name>) or folder.', required: true }),
  };
  static override flags = {
    ...clusterFlags,
    load: Flags.boolean({
      description: 'Load the image into the kind nodes (`kind load`) instead of pushing to the registry.',
    }),
    'build-arg': Flags.string({ description: 'A Docker build argument KEY=VALUE (repeatable).', multiple: true }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Build);
    this.setup(flags);
    const loaded = await this.loadConfig(flags.config, clusterSelection(flags));
    const { existingClusterContext } = await import('../orchestration/contexts.ts');
    const { findAppDir, loadApp } = await import('../jobs/app-file.ts');
    const { buildAppImage } = await import('../jobs/image.ts');
    const { deliveryFor } = await import('../jobs/run.ts');
    const { renderBuild } = await import('../ui/jobs.ts');
    const { sparkBuildArgs } = await import('../charts/images.ts');
    const { loadPins } = await import('../charts/pins.ts');
    const ctx = existingClusterContext(loaded);
    const app = await loadApp(findAppDir(loaded.config.projectDir, args.app));
    const result = await buildAppImage({
      app: app.name,
      dir: app.dir,
      dockerfile: app.build.dockerfile,
      buildArgs: {
        ...sparkBuildArgs(loaded.config, await loadPins(), app.sparkVersion),
        ...app.build.args,
        ...parseBuildArgs(flags['build-arg']),
      },
      delivery: deliveryFor(ctx, flags.load),
      signal: this.signal,
      ...(flags.verbose ? { onLine: (l: string) => process.stderr.write(`  ${l}\n`) } : {}),
    });
    if (this.mode === 'json') return this.printJson<BuildJson>({ ok: true, ...result });
    this.log(renderBuild(result));
  }
}
