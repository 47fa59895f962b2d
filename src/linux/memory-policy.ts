// linux.memoryPolicy (spec 1.3) -> the init's `memoryPolicy` op: set_mempolicy(2) for
// the container's process, and for every process exec'd into it (the policy is the
// container's, as its cpuset is: an exec'd process must not allocate outside it).
// Pure: the kernel's rules that can be said from the config alone are refused here,
// naming the field; the rest (a node that is not online or not in the cpuset) comes
// back from set_mempolicy as EINVAL.
import type { MemoryPolicy } from '../config/types';
import type * as CpuList from '../config/cpu-list';
import { ConfigError } from '../errors';
import { op, type PlanOp } from './plan-encoding';

/** <linux/mempolicy.h>: modes, in the kernel's numbering. */
export const MEMORY_POLICY_MODES: Readonly<Record<string, number>> = {
  MPOL_DEFAULT: 0,
  MPOL_PREFERRED: 1,
  MPOL_BIND: 2,
  MPOL_INTERLEAVE: 3,
  MPOL_LOCAL: 4,
  MPOL_PREFERRED_MANY: 5,
  MPOL_WEIGHTED_INTERLEAVE: 6,
};

/** Mode flags, or'ed into the mode argument. */
export const MEMORY_POLICY_FLAGS: Readonly<Record<string, number>> = {
  MPOL_F_NUMA_BALANCING: 1 << 13,
  MPOL_F_RELATIVE_NODES: 1 << 14,
  MPOL_F_STATIC_NODES: 1 << 15,
};

/** Modes that take no nodes, and modes that need at least one. */
const NO_NODES = new Set(['MPOL_DEFAULT', 'MPOL_LOCAL']);
const NEEDS_NODES = new Set(['MPOL_BIND', 'MPOL_INTERLEAVE', 'MPOL_PREFERRED_MANY', 'MPOL_WEIGHTED_INTERLEAVE']);

export function planMemoryPolicy(policy: MemoryPolicy | undefined): PlanOp[] {
  if (!policy) return [];
  const field = 'linux.memoryPolicy';
  const mode = MEMORY_POLICY_MODES[policy.mode];
  if (mode === undefined) throw new ConfigError(`${field}.mode`, `unknown memory policy mode "${policy.mode}"`);
  let flags = 0;
  (policy.flags ?? []).forEach((name, i) => {
    const bit = MEMORY_POLICY_FLAGS[name];
    if (bit === undefined) throw new ConfigError(`${field}.flags[${i}]`, `unknown memory policy flag "${name}"`);
    flags |= bit;
  });
  // Required here, not at the top: the parser lives in the bundle part of the cgroup
  // drivers, which an exec without a policy should not load.
  const { parseCpuList } = require('../config/cpu-list') as typeof CpuList;
  const nodes = parseCpuList(policy.nodes ?? '', `${field}.nodes`);
  if (NO_NODES.has(policy.mode) && nodes.length > 0) throw new ConfigError(`${field}.nodes`, `must be empty for ${policy.mode}`);
  if (NEEDS_NODES.has(policy.mode) && nodes.length === 0) throw new ConfigError(`${field}.nodes`, `${policy.mode} needs at least one node`);
  // The kernel's rules for the flags (mm/mempolicy.c): EINVAL, or silently ignored
  // (static or relative nodes with MPOL_DEFAULT), which a config should not rely on.
  const has = (name: string) => (flags & MEMORY_POLICY_FLAGS[name]!) !== 0;
  if (has('MPOL_F_STATIC_NODES') && has('MPOL_F_RELATIVE_NODES')) throw new ConfigError(`${field}.flags`, 'MPOL_F_STATIC_NODES and MPOL_F_RELATIVE_NODES exclude each other');
  if (has('MPOL_F_NUMA_BALANCING') && policy.mode !== 'MPOL_BIND' && policy.mode !== 'MPOL_PREFERRED_MANY') {
    throw new ConfigError(`${field}.flags`, `MPOL_F_NUMA_BALANCING goes with MPOL_BIND or MPOL_PREFERRED_MANY, not ${policy.mode}`);
  }
  if ((has('MPOL_F_STATIC_NODES') || has('MPOL_F_RELATIVE_NODES')) && nodes.length === 0) {
    throw new ConfigError(`${field}.flags`, `MPOL_F_STATIC_NODES and MPOL_F_RELATIVE_NODES apply to a node list, which ${policy.mode} has not here`);
  }
  return [op('memoryPolicy', mode | flags, nodes.join(','), [policy.mode, ...(policy.flags ?? [])].join('|'))];
}
