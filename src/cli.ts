/** Entry point of the bundle: oclif's runner, bundled so start-up reads one file, not hundreds. */
export { execute } from '@oclif/core/execute';
