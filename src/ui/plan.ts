import type { PlanDescription } from '../engine/plan.ts';
import type { Action } from '../engine/step.ts';
import { formatCommand } from '../tools/exec.ts';

/** `--dry-run`: the plan in words, with every command and manifest it would run or apply. */
export async function renderPlan(plan: PlanDescription): Promise<string> {
  const { dump } = await import('js-yaml');
  const out: string[] = ['Plan (dry run: nothing is executed):', ''];
  plan.forEach((step, i) => {
    const mode =
      step.mode === 'run' ? '' : step.mode === 'verify' ? '  [verify only: must already be done]' : '  [skipped]';
    out.push(`${i + 1}. ${step.id}: ${step.title}${mode}`);
    if (step.needs.length > 0) out.push(`   needs: ${step.needs.join(', ')}`);
    for (const action of step.actions) out.push(...renderAction(action, dump).map((l) => `   ${l}`));
    out.push('');
  });
  return out.join('\n');
}

function renderAction(action: Action, dump: (v: unknown, o?: object) => string): string[] {
  const block = (value: unknown): string[] =>
    dump(value, { lineWidth: 160, noRefs: true })
      .trimEnd()
      .split('\n')
      .map((l) => `    ${l}`);
  switch (action.kind) {
    case 'command': {
      // A one-line stdin is shown beside the command, a longer one below it.
      const input = action.input ?? '';
      const below = input.includes('\n');
      const stdin = input ? `   (stdin: ${below ? 'below' : input})` : '';
      return [
        `$ ${formatCommand(action.tool, action.args)}${stdin}`,
        ...(below
          ? input
              .trimEnd()
              .split('\n')
              .map((l) => `    ${l}`)
          : []),
      ];
    }
    case 'manifest':
      return ['apply:', ...block(action.manifest)];
    case 'helm':
      return [
        `helm release ${action.namespace}/${action.release}: ${action.chart} ${action.version}`,
        ...(action.values ? ['values:', ...block(action.values)] : []),
        ...(action.objects
          ? [
              `objects (${action.objects.length}, from helm template):`,
              ...action.objects.flatMap((o, i) => [...(i > 0 ? ['    ---'] : []), ...block(o)]),
            ]
          : []),
      ];
    case 'wait':
      return [`wait up to ${Math.round(action.timeoutMs / 1000)}s for ${action.what}`];
    case 'file':
      return [`write ${action.path}${action.mode ? ` (mode ${action.mode.toString(8)})` : ''}`];
    case 'note':
      return [`note: ${action.text}`];
  }
}
