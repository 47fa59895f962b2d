// `state` and `list`: read-only views of the state store.
import { ContainerNotFoundError } from '../errors';
import { StateStore } from '../state/store';
import { toOciState } from '../state/status';
import type { OciState } from '../state/types';
import { Container } from './container';

export function containerState(root: string, id: string): OciState {
  const container = Container.open(root, id);
  return toOciState(container.state, container.status());
}

/**
 * Every container under root. One whose state cannot be loaded (corrupt or unreadable
 * state.json) is left out and handed to `unloadable`, as runc's list prints it and
 * goes on. One that vanishes meanwhile, or whose dir has no state.json yet (a create
 * in progress, or one that crashed before its first write), is skipped without a word:
 * it is not a broken container (runc prints "container does not exist" for both).
 */
export function listContainers(root: string, unloadable: (id: string, reason: string) => void = () => undefined): OciState[] {
  const store = new StateStore(root);
  const out: OciState[] = [];
  for (const id of store.list()) {
    let container: Container;
    try {
      container = Container.open(root, id);
    } catch (e) {
      if (!(e instanceof ContainerNotFoundError)) unloadable(id, (e as Error).message);
      continue;
    }
    // Past loading, a failure is the command's (runc's list fails on a status error too).
    out.push(toOciState(container.state, container.status()));
  }
  return out;
}
