import { Flags } from '@oclif/core';
import { DEFAULT_TASK_NAMESPACE } from '../tasks/render.ts';

/** The namespace of `koala tasks` and `koala pipelines`: one flag, one default, the one `status` reads. */
export const tasksNamespaceFlag = Flags.string({
  char: 'n',
  description: 'Namespace of the tasks and pipelines.',
  default: DEFAULT_TASK_NAMESPACE,
});
