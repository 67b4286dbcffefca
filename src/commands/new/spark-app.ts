import { Args, Flags } from '@oclif/core';
import { KoalaCommand } from '../../cli/base.ts';
import type { NewSparkAppJson } from '../../cli/results.ts';

export default class NewSparkApp extends KoalaCommand {
  static override summary =
    'Scaffold a Spark app: spark-applications/<name>/ with a Dockerfile, the code and spark-app.yaml.';
  static override description =
    'The example is PageRank over a small bundled graph; it writes the ranks to the object store. ' +
    '`koala run <name>` builds and runs it. An Airflow DAG that runs it, dags/<name>.py, is written ' +
    'beside the other DAGs (an existing one is kept); `koala dags sync` renders its SparkApplication.';
  static override examples = ['<%= config.bin %> new spark-app pagerank'];
  static override args = {
    name: Args.string({ description: 'App name: lowercase letters, digits and "-".', required: true }),
  };
  static override flags = {
    language: Flags.string({ description: 'Language of the scaffold.', options: ['python'], default: 'python' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(NewSparkApp);
    this.setup(flags);
    const loaded = await this.loadConfig(flags.config);
    const { scaffoldSparkApp } = await import('../../jobs/scaffold.ts');
    const { sparkBaseImage } = await import('../../charts/images.ts');
    const pins = await (await import('../../charts/pins.ts')).loadPins();
    const result = await scaffoldSparkApp({
      projectDir: loaded.config.projectDir,
      name: args.name,
      language: 'python',
      bucket: loaded.config.objectStore.buckets[0] ?? 'spark-data',
      sparkImage: (version) => sparkBaseImage(loaded.config, pins, version),
    });
    const { writeAppDag } = await import('../../jobs/app-dags.ts');
    const { dagsDirectory } = await import('../../components/airflow/dags.ts');
    // The namespace `koala run` uses for an app that names none (the schema requires one).
    const dag = await writeAppDag(dagsDirectory(loaded.config), args.name, loaded.config.spark.jobNamespaces[0]!);
    if (this.mode === 'json')
      return this.printJson<NewSparkAppJson>({
        ok: true,
        dir: result.dir,
        files: result.files,
        ...(dag ? { dag } : {}),
      });
    this.log(`Created ${result.dir}:`);
    for (const f of result.files) this.log(`  ${f}`);
    if (dag) this.log(`and the Airflow DAG ${dag}`);
    this.log(`\nNext: \`koala run ${args.name}\` builds the image, submits it and follows it to the end.`);
    if (dag) this.log("      `koala dags sync` renders the DAG's SparkApplication and publishes dags/ to Airflow.");
  }
}
