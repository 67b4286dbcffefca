/**
 * The schedules a Kubernetes CronJob takes: five fields (minute, hour, day of month, month, day
 * of week) with `*`, lists, ranges, steps and month and day names, or one of the macros. The
 * API server would refuse anything else only when the object is sent, so koala checks first and
 * says which field is wrong. A sixth (seconds) field and CRON_TZ= are refused as Kubernetes does.
 */

const FIELDS = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  {
    name: 'month',
    min: 1,
    max: 12,
    names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'],
  },
  { name: 'day of week', min: 0, max: 7, names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] },
] as const;

const MACROS = ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'];

export const CRON_ACCEPTED =
  'five fields "minute hour day-of-month month day-of-week" such as "0 5 * * *" or "*/15 * * * MON-FRI", ' +
  `or ${MACROS.join(', ')}`;

/** Why a schedule is not one Kubernetes accepts, or undefined when it is. */
export function cronProblem(schedule: string): string | undefined {
  const text = schedule.trim();
  if (text.startsWith('@')) return MACROS.includes(text) ? undefined : `${text} is not a schedule macro`;
  if (/^(CRON_)?TZ=/.test(text)) return 'a time zone is not part of the schedule (Kubernetes has a timeZone field)';
  const parts = text.split(/\s+/);
  if (parts.length !== 5) return `has ${parts.length} field${parts.length === 1 ? '' : 's'}, not 5`;
  for (const [i, part] of parts.entries()) {
    const problem = fieldProblem(part, FIELDS[i]!);
    if (problem) return `${FIELDS[i]!.name} "${part}": ${problem}`;
  }
  return undefined;
}

function fieldProblem(part: string, field: (typeof FIELDS)[number]): string | undefined {
  const names: readonly string[] = 'names' in field ? field.names : [];
  const value = (token: string): number | undefined => {
    const named = names.indexOf(token.toUpperCase());
    if (named >= 0) return field.name === 'month' ? named + 1 : named;
    return /^\d+$/.test(token) ? Number(token) : undefined;
  };
  for (const item of part.split(',')) {
    const [range, step, extra] = item.split('/');
    if (extra !== undefined || range === undefined || range === '') return `"${item}" is not a value, range or step`;
    if (step !== undefined && !/^[1-9]\d*$/.test(step)) return `step "${step}" is not a positive number`;
    if (range === '*' || range === '?') continue;
    const [from, to, more] = range.split('-');
    if (more !== undefined) return `"${range}" is not a range`;
    const low = value(from ?? '');
    const high = to === undefined ? low : value(to);
    if (low === undefined || high === undefined) return `"${range}" is not a number${names.length ? ' or name' : ''}`;
    if (low < field.min || high > field.max) return `out of range ${field.min}-${field.max}`;
    if (low > high) return `"${range}" runs backwards`;
  }
  return undefined;
}
