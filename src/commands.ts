/**
 * Every command, for oclif's explicit discovery strategy (lets the CLI be bundled). Command
 * classes only declare flags; their work is imported inside run(), so loading this file is cheap.
 */
import Doctor from './commands/doctor.ts';
import Down from './commands/down.ts';
import Status from './commands/status.ts';
import Up from './commands/up.ts';

export const COMMANDS = {
  up: Up,
  down: Down,
  status: Status,
  doctor: Doctor,
};
