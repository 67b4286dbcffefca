import { existsSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { APPS_DIR } from '../jobs/app-file.ts';
import { cronProblem, CRON_ACCEPTED } from '../tasks/cron.ts';
import { EXIT, KoalaError } from '../util/errors.ts';

export const PIPELINES_DIR = 'pipelines';

export interface PipelineScaffold {
  name: string;
  kind: 'batch' | 'stream';
  schedule?: string;
}

/**
 * `koala new pipeline <name>`: pipelines/<name>.yaml, a Pipeline file `koala pipelines deploy`
 * takes as written. A batch one has a container step that writes to the shared workspace and,
 * when the project has a Spark app, a step that runs it; a stream one has one micro-service.
 */
export async function scaffoldPipeline(projectDir: string, request: PipelineScaffold): Promise<{ file: string }> {
  if (!/^[a-z]([a-z0-9-]{0,28}[a-z0-9])?$/.test(request.name))
    throw new KoalaError(`"${request.name}" is not a valid pipeline name`, {
      exitCode: EXIT.usage,
      hint: 'Use lowercase letters, digits and "-", starting with a letter, at most 30 characters.',
    });
  if (request.schedule !== undefined) {
    const why = request.kind === 'batch' ? cronProblem(request.schedule) : 'a schedule is for a batch pipeline';
    if (why)
      throw new KoalaError(`--schedule "${request.schedule}": ${why}`, {
        exitCode: EXIT.usage,
        hint: request.kind === 'batch' ? `Accepted: ${CRON_ACCEPTED}.` : 'Leave out --stream to schedule it.',
      });
  }
  const file = path.join(projectDir, PIPELINES_DIR, `${request.name}.yaml`);
  if (existsSync(file))
    throw new KoalaError(`${file} already exists`, {
      exitCode: EXIT.usage,
      hint: `Choose another name, or delete ${file} first; koala never overwrites a pipeline.`,
    });
  const head = ['apiVersion: koala.dev/v1', 'kind: Pipeline', `metadata:\n  name: ${request.name}`, 'spec:'];
  const body =
    request.kind === 'stream'
      ? [
          '  streamJob:',
          '    microServices:',
          '      - name: consumer',
          '        replicas: 1',
          '        spec:',
          '          containers:',
          '            - name: consumer',
          '              image: busybox:1.37.0',
          '              command: [sh, -c, "while true; do echo consuming; sleep 30; done"]',
        ]
      : await batchBody(projectDir, request.schedule);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, [...head, ...body].join('\n') + '\n');
  return { file };
}

async function batchBody(projectDir: string, schedule: string | undefined): Promise<string[]> {
  const appsDir = path.join(projectDir, APPS_DIR);
  const apps = existsSync(appsDir)
    ? (await readdir(appsDir, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name)
    : [];
  return [
    "  # The object store's keys (envFrom) and bucket (S3_BUCKET) in every step.",
    '  storage: true',
    '  batchJob:',
    '    # In order; every step mounts /workspace, shared by the steps of one run.',
    '    steps:',
    '      - name: prepare',
    '        image: busybox:1.37.0',
    '        command: [sh, -c, "date > /workspace/started && echo prepared"]',
    ...(apps[0]
      ? [
          '      # A Spark app of this project, run as `koala run` runs it.',
          '      - name: spark',
          `        sparkApp: ${apps[0]}`,
        ]
      : []),
    '  strategy:',
    `    cronExpression: "${schedule ?? ''}"   # empty: runs start with \`koala pipelines run\``,
    '    maxRetryCount: 2                  # a retry re-runs only the step that failed',
    '    timeout: 30m',
    '    # expire: "2027-12-31 23:59:00"   # no run after it',
  ];
}
