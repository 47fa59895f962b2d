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

/** Every container under root; one that vanishes or is half-written meanwhile is skipped. */
export function listContainers(root: string): OciState[] {
  const store = new StateStore(root);
  const out: OciState[] = [];
  for (const id of store.list()) {
    try {
      out.push(containerState(root, id));
    } catch (e) {
      if (!(e instanceof ContainerNotFoundError)) throw e;
    }
  }
  return out;
}
