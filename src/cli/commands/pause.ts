import type { CommandModule } from 'yargs';
import { containerId, type GlobalOptions } from './common';

/** Loaded when the command runs: start-up loads only what the command needs. */
const loadPause = (): typeof import('../../lifecycle/pause') => require('../../lifecycle/pause');

export const pause: CommandModule<GlobalOptions, GlobalOptions> = {
  command: 'pause [container-id]',
  describe: 'pause suspends all processes inside the container',
  builder: (y) => y.positional('container-id', { type: 'string', describe: 'the container id' }),
  handler: (argv) => loadPause().pauseContainer(argv.root, containerId(argv, 'pause')),
};

export const resume: CommandModule<GlobalOptions, GlobalOptions> = {
  command: 'resume [container-id]',
  describe: 'resumes all processes that have been previously paused',
  builder: (y) => y.positional('container-id', { type: 'string', describe: 'the container id' }),
  handler: (argv) => loadPause().resumeContainer(argv.root, containerId(argv, 'resume')),
};
