// Node's child_process, loaded on first use: requiring it pulls in streams, net and
// dgram, milliseconds that every `create` and `run` would pay although only a
// config with hooks, a rootless id mapping or `ps` ever spawns anything.
import type * as ChildProcess from 'child_process';

export function childProcess(): typeof ChildProcess {
  return require('child_process') as typeof ChildProcess;
}
