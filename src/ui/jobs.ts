import { formatDuration } from '../engine/runner.ts';
import type { RunStatus, RunSummary, RunEventLine } from '../jobs/apps.ts';
import type { FollowResult, RunEvent } from '../jobs/follow.ts';
import { problemKind } from '../jobs/stuck.ts';
import type { BuildResult } from '../jobs/image.ts';
import { table } from './table.ts';

/** One line per event of a followed run; log lines carry the pod's role as a prefix. */
export function renderRunEvent(event: RunEvent, startedAt: number): string {
  const clock = `[${formatClock(('at' in event ? event.at : performance.now()) - startedAt)}]`;
  switch (event.type) {
    case 'state':
      if (event.state === 'NEW') return `${clock} created; waiting for the operator to submit it`;
      return `${clock} ${event.state}${event.errorMessage ? `: ${event.errorMessage}` : ''}`;
    case 'driver':
      return `${clock} driver ${event.pod}: ${event.phase}`;
    case 'executor':
      return `${clock} executor ${event.pod}: ${event.change === 'removed' ? 'gone' : event.phase}`;
    case 'log':
      return `driver${event.attempt > 1 ? `#${event.attempt}` : ''} | ${event.line}`;
    case 'waiting':
      return `${clock} ${event.role} ${event.pod} waiting: ${event.reason}${event.message ? `: ${event.message}` : ''}`;
    case 'warning':
      return `${clock} warning ${event.object}: ${event.reason}${event.message ? `: ${event.message}` : ''}`;
  }
}

/** The error and the next step when a run's driver cannot start without the user. */
export function renderBlocked(
  run: string,
  namespace: string,
  blocked: NonNullable<FollowResult['blocked']>,
  image: unknown,
): { message: string; hint: string } {
  const detail = blocked.message ? `: ${blocked.message}` : '';
  const message = `${run}'s driver ${blocked.pod} cannot start: ${blocked.reason}${detail}`;
  const keep =
    `The run is left as it is: \`koala apps events ${run}\` shows what Kubernetes reported, ` +
    `\`koala apps delete ${run}\` removes it.`;
  const what = typeof image === 'string' ? ` ${image}` : '';
  const fix =
    problemKind(blocked) === 'image'
      ? `Check that the image${what} exists and the cluster can pull it (--image <ref> runs another).`
      : `Create what it names in namespace ${namespace}, or add the ConfigMap or Secret to the manifest file ` +
        '(koala applies those with the run).';
  return { message, hint: `${fix} ${keep}` };
}

function formatClock(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

export function renderBuild(build: BuildResult): string {
  const what = build.built ? 'built' : 'not rebuilt';
  return build.delivered
    ? `image ${build.image}: ${what}, ${build.reason} (${formatDuration(build.durationMs)})`
    : `image ${build.image}: unchanged, nothing built or pushed (${formatDuration(build.durationMs)})`;
}

export function formatSeconds(seconds: number | undefined): string {
  if (seconds === undefined) return '-';
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}m`;
}

export function renderRunTable(runs: RunSummary[]): string {
  if (runs.length === 0) return 'No runs. Start one with `koala run <app>` or `koala run -f <sparkapplication.yaml>`.';
  return table(
    ['NAMESPACE', 'RUN', 'APP', 'STATE', 'AGE', 'DURATION', 'DRIVER'],
    runs.map((r) => [
      r.namespace,
      r.name,
      r.app,
      r.state,
      formatSeconds(r.ageSeconds),
      formatSeconds(r.durationSeconds),
      r.driverPod ?? '-',
    ]),
  );
}

export function renderRunStatus(status: RunStatus): string {
  const lines = [
    `Run:       ${status.namespace}/${status.name} (app ${status.app}${status.run ? `, run ${status.run}` : ''})`,
    `State:     ${status.state}${status.errorMessage ? ` (${status.errorMessage})` : ''}`,
    `Age:       ${formatSeconds(status.ageSeconds)}`,
    `Duration:  ${formatSeconds(status.durationSeconds)}`,
    `Driver:    ${status.driverPod ?? '-'}`,
    `Spark UI:  ${status.uiService ? `service ${status.uiService} (koala port-forward ${status.name})` : '-'}`,
  ];
  if (status.pods.length)
    lines.push(
      '',
      table(
        ['POD', 'ROLE', 'PHASE', 'RESTARTS', 'NODE'],
        status.pods.map((p) => [p.name, p.role, p.phase, String(p.restarts), p.node ?? '-']),
      ),
    );
  return lines.join('\n');
}

export function renderRunEvents(events: RunEventLine[]): string {
  if (events.length === 0) return 'No events (Kubernetes keeps them for an hour).';
  return table(
    ['TIME', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE'],
    events.map((e) => [e.time.replace(/\.\d+Z$/, 'Z'), e.type, e.reason, e.object, e.message]),
  );
}
