import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { EXIT, KoalaError } from '../util/errors.ts';
import { cronProblem, CRON_ACCEPTED } from './cron.ts';
import { MANIFEST_FILE } from './manifest.ts';

export const TASKS_DIR = 'tasks';

export interface TaskScaffold {
  name: string;
  type: 'job' | 'deployment' | 'service';
  schedule?: string;
  /** For a service: the port the scaffolded HTTP server listens on. */
  port?: number;
}

/**
 * `koala new task <name>`: tasks/<name>/ with a manifest.json in the datatask format, a
 * Dockerfile and a small Python program, built by `koala tasks deploy` (image-destination).
 * A service answers HTTP on its port; a job or deployment prints and ends or loops.
 */
export async function scaffoldTask(
  projectDir: string,
  request: TaskScaffold,
): Promise<{ dir: string; files: string[] }> {
  if (!/^[a-z]([a-z0-9-]{0,50}[a-z0-9])?$/.test(request.name))
    throw new KoalaError(`"${request.name}" is not a valid task name`, {
      exitCode: EXIT.usage,
      hint: 'Use lowercase letters, digits and "-", starting with a letter, like gstogs or daily-export.',
    });
  if (request.schedule !== undefined) {
    const why = request.type === 'job' ? cronProblem(request.schedule) : 'a schedule is for a job';
    if (why)
      throw new KoalaError(`--schedule "${request.schedule}": ${why}`, {
        exitCode: EXIT.usage,
        hint: request.type === 'job' ? `Accepted: ${CRON_ACCEPTED}.` : 'Use --type job with --schedule.',
      });
  }
  const dir = path.join(projectDir, TASKS_DIR, request.name);
  if (existsSync(dir))
    throw new KoalaError(`${dir} already exists`, {
      exitCode: EXIT.usage,
      hint: `Choose another name, or delete ${dir} first; koala never overwrites a task.`,
    });
  const port = request.port ?? 8080;
  const manifest: Record<string, unknown> = {
    labels: `app:${request.name}`,
    type: request.type,
    name: request.name,
    'image-source': '',
    'image-destination': `${request.name}:0.1`,
    'image-pull-policy': 'IfNotPresent',
    env: [{ name: 'logger_name', value: request.name }],
    cmd: ['python3', 'main.py'],
    'cpu-limit': '0.50',
    'memory-limit': '256Mi',
    'cpu-request': '0.10',
    'memory-request': '64Mi',
    ...(request.type === 'job' ? { schedule: request.schedule ?? '' } : { replicas: 1 }),
    ...(request.type === 'service' ? { 'name-port': 'http', 'container-port': port } : {}),
  };
  const program =
    request.type === 'service'
      ? [
          'import http.server, os',
          '',
          'class Hello(http.server.BaseHTTPRequestHandler):',
          '    def do_GET(self):',
          '        body = f"hello from {os.environ.get(\'logger_name\')} at {self.path}\\n".encode()',
          '        self.send_response(200)',
          '        self.send_header("Content-Length", str(len(body)))',
          '        self.end_headers()',
          '        self.wfile.write(body)',
          '',
          `http.server.ThreadingHTTPServer(("", ${port}), Hello).serve_forever()`,
        ]
      : request.type === 'deployment'
        ? [
            'import os, time',
            '',
            'while True:',
            '    print(f"{os.environ.get(\'logger_name\')}: working", flush=True)',
            '    time.sleep(30)',
          ]
        : ['import os', '', 'print(f"{os.environ.get(\'logger_name\')}: done", flush=True)'];
  const files: Record<string, string> = {
    [MANIFEST_FILE]: `${JSON.stringify(manifest, null, 2)}\n`,
    Dockerfile: ['FROM python:3.12-slim', 'WORKDIR /app', 'COPY main.py .', 'USER 1000', ''].join('\n'),
    'main.py': `${program.join('\n')}\n`,
  };
  await mkdir(dir, { recursive: true });
  for (const [file, text] of Object.entries(files)) await writeFile(path.join(dir, file), text);
  return { dir, files: Object.keys(files).map((f) => path.join(dir, f)) };
}
