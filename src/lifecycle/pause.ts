// `pause` / `resume`: freeze and thaw every process of the container through its
// cgroup (v1 freezer.state, v2 cgroup.freeze). runc 1.1.5 also pauses a created
// container (its init is frozen on the exec FIFO); its errors are "container not
// running" (pause of anything else) and "container not paused" (resume).
import { ContainerStateError } from '../errors';
import { Container } from './container';

export function pauseContainer(root: string, id: string): void {
  const { container, unlock } = Container.openLocked(root, id);
  try {
    const status = container.status();
    if (status !== 'running' && status !== 'created') throw new ContainerStateError('container not running');
    container.cgroups.freeze();
  } finally {
    unlock();
  }
}

export function resumeContainer(root: string, id: string): void {
  const { container, unlock } = Container.openLocked(root, id);
  try {
    if (container.status() !== 'paused') throw new ContainerStateError('container not paused');
    container.cgroups.thaw();
  } finally {
    unlock();
  }
}
