import type { CommandModule } from 'yargs';
import { pauseContainer, resumeContainer } from '../../lifecycle/pause';
import { containerId, type GlobalOptions } from './common';

export const pause: CommandModule<GlobalOptions, GlobalOptions> = {
  command: 'pause [container-id]',
  describe: 'pause suspends all processes inside the container',
  builder: (y) => y.positional('container-id', { type: 'string', describe: 'the container id' }),
  handler: (argv) => pauseContainer(argv.root, containerId(argv, 'pause')),
};

export const resume: CommandModule<GlobalOptions, GlobalOptions> = {
  command: 'resume [container-id]',
  describe: 'resumes all processes that have been previously paused',
  builder: (y) => y.positional('container-id', { type: 'string', describe: 'the container id' }),
  handler: (argv) => resumeContainer(argv.root, containerId(argv, 'resume')),
};
