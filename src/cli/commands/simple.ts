// Commands that take just a container id and a few flags.
import type { Argv, CommandModule } from 'yargs';
import { formatOciState } from '../../state/status';
import { TsrunError } from '../../errors';
import { containerId, EMPTY_ID, type GlobalOptions } from './common';
import { writeStdout } from '../../output';

/** Loaded when the command runs: start-up loads only what the command needs. */
const loadStart = (): typeof import('../../lifecycle/start') => require('../../lifecycle/start');

/** Loaded when the command runs: start-up loads only what the command needs. */
const loadQuery = (): typeof import('../../lifecycle/query') => require('../../lifecycle/query');

/** Loaded when the command runs: start-up loads only what the command needs. */
const loadKill = (): typeof import('../../lifecycle/kill') => require('../../lifecycle/kill');

/** Loaded when the command runs: start-up loads only what the command needs. */
const loadDelete = (): typeof import('../../lifecycle/delete') => require('../../lifecycle/delete');

const idOnly = <T>(y: Argv<T>) => y.positional('container-id', { type: 'string', describe: 'the container id' });

export const start: CommandModule<GlobalOptions, GlobalOptions> = {
  command: 'start [container-id]',
  describe: 'start a created container (executes the user-defined process)',
  builder: idOnly,
  handler: (argv) => loadStart().startContainer(argv.root, containerId(argv, 'start')),
};

export const state: CommandModule<GlobalOptions, GlobalOptions> = {
  command: 'state [container-id]',
  describe: 'output the state of a container',
  builder: idOnly,
  handler: (argv) => {
    const s = loadQuery().containerState(argv.root, containerId(argv, 'state'));
    writeStdout(formatOciState(s));
  },
};

export const kill: CommandModule<GlobalOptions, GlobalOptions & { all: boolean }> = {
  command: 'kill [container-id] [signal]',
  describe: 'send a signal (default SIGTERM) to the container\'s init process',
  builder: (y) =>
    y
      .positional('container-id', { type: 'string' })
      .positional('signal', { type: 'string' })
      .option('all', { alias: 'a', type: 'boolean', default: false, describe: 'send the signal to all processes inside the container' }),
  handler: (argv) => {
    const words = (argv._ as (string | number)[]).slice(1).map(String);
    if (words.length > 0) throw new TsrunError('"kill" requires at most 2 arguments');
    const id = argv['container-id'];
    if (id === undefined) throw new TsrunError('"kill" requires a container id');
    if (id === '') throw new TsrunError(EMPTY_ID);
    const signal = argv['signal'];
    loadKill().killContainer(argv.root, String(id), signal === undefined ? undefined : String(signal), argv.all);
  },
};

export const del: CommandModule<GlobalOptions, GlobalOptions & { force: boolean }> = {
  command: 'delete [container-id]',
  describe: 'delete any resources held by the container (often used with detached containers)',
  builder: (y) => idOnly(y).option('force', { alias: 'f', type: 'boolean', default: false, describe: 'forcibly delete a running container (SIGKILL)' }),
  handler: (argv) => loadDelete().deleteContainer(argv.root, containerId(argv, 'delete'), argv.force),
};
