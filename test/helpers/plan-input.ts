// The create planner's input for unit tests: runc's default config (no terminal), a
// bundle at /b, and host facts of a v1 host unless a test says otherwise.
import { defaultSpec } from '../../src/config/default-spec';
import type { Spec } from '../../src/config/types';
import type { CreatePlanInput } from '../../src/linux/plan';

export function createPlanInput(mutate: (s: Spec) => void = () => undefined, over: Partial<CreatePlanInput> = {}): CreatePlanInput {
  const spec = defaultSpec();
  spec.process!.terminal = false;
  mutate(spec);
  return {
    spec,
    bundle: '/b',
    rootfs: '/b/rootfs',
    noPivot: false,
    preserveFds: 0,
    extraFds: 1,
    fifoFd: 5,
    host: { lastCap: 40, cgroupDirs: { cpu: '/sys/fs/cgroup/cpu/t/c1', memory: '/sys/fs/cgroup/memory/t/c1' }, cgroupV2: false },
    warn: () => undefined,
    ...over,
  };
}
