// The runtime-spec features document (features.md), as `tsrun features` prints it.
// Each entry is derived from the code that implements it — a hook kind or seccomp is
// reported only if checkSupported() accepts it — so the document cannot claim more
// than tsrun does.
import * as os from 'os';
import type { Spec } from '../config/types';
import { checkSupported } from '../config/support';
import { ConfigError, NotSupportedError } from '../errors';
import { ANNOTATION_PREFIX as SYSTEMD_PROPERTY_ANNOTATION_PREFIX } from '../cgroups/systemd-unit';
import { CAPABILITY_NAMES } from '../linux/capabilities';
import { MEMORY_POLICY_FLAGS, MEMORY_POLICY_MODES } from '../linux/memory-policy';
import { knownMountOptions } from '../linux/mount-options';
import { CLONE_FLAGS } from '../linux/namespaces';
import { planSeccomp, SCMP_CMP, SECCOMP_FILTER_FLAG } from '../linux/seccomp';
import { native } from '../native';
import { OCI_VERSION, TSRUN_VERSION } from '../version';
import { probeSeccompLibrary, type SeccompLibrary } from './seccomp';

const HOOK_KINDS = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'] as const;

function accepts(spec: Partial<Spec>): boolean {
  try {
    checkSupported({ ociVersion: OCI_VERSION, ...spec } as Spec);
    return true;
  } catch (e) {
    if (e instanceof NotSupportedError) return false;
    throw e;
  }
}

export interface Features {
  ociVersionMin: string;
  ociVersionMax: string;
  hooks: string[];
  mountOptions: string[];
  linux: {
    namespaces: string[];
    capabilities: string[];
    cgroup: { v1: boolean; v2: boolean; systemd: boolean; systemdUser: boolean; rdma: boolean };
    seccomp: { enabled: boolean; actions: string[]; operators: string[]; archs: string[]; knownFlags: string[]; supportedFlags: string[] };
    apparmor: { enabled: boolean };
    selinux: { enabled: boolean };
    memoryPolicy: { modes: string[]; flags: string[] };
    intelRdt: { enabled: boolean };
    mountExtensions: { idmap: { enabled: boolean } };
    netDevices: { enabled: boolean };
  };
  annotations: Record<string, string>;
  /** Spec 1.2: the annotations that change what tsrun does (a trailing "." is a prefix). */
  potentiallyUnsafeConfigAnnotations: string[];
}

/** The document for this host: its libseccomp asked what it can build, its kernel's release read. */
export function hostFeatures(): Features {
  return features(probeSeccompLibrary(), os.release(), (flags) => native().seccompFilterFlagsSupported(flags));
}

/** A kernel release ("6.1.0-18-amd64") at least major.minor. */
function releaseAtLeast(release: string, major: number, minor: number): boolean {
  const [a = 0, b = 0] = release.split(/[.-]/, 2).map(Number);
  return a > major || (a === major && b >= minor);
}

/**
 * `library`: what libseccomp offers (lifecycle/seccomp.ts probes it); `kernelRelease`:
 * uname's release (id-mapped mounts need mount_setattr, Linux 5.12). Tests pass their own.
 */
export function features(library: SeccompLibrary, kernelRelease: string, kernelTakesFilterFlags: (flags: number) => boolean = () => true): Features {
  const hooks = HOOK_KINDS.filter((kind) => accepts({ hooks: { [kind]: [{ path: '/bin/true' }] } }));
  const namespaces = (Object.keys(CLONE_FLAGS) as (keyof typeof CLONE_FLAGS)[])
    .filter((type) => accepts({ linux: { namespaces: [{ type }] } }))
    .sort();
  return {
    ociVersionMin: '1.0.0',
    ociVersionMax: OCI_VERSION,
    hooks,
    mountOptions: knownMountOptions(),
    linux: {
      namespaces,
      capabilities: [...CAPABILITY_NAMES],
      cgroup: { v1: true, v2: true, systemd: true, systemdUser: false, rdma: accepts({ linux: { resources: { rdma: { x: { hcaHandles: 1 } } } } }) },
      seccomp: {
        enabled: accepts({ linux: { seccomp: { defaultAction: 'SCMP_ACT_ALLOW' } } }),
        ...seccompFeatures(library.archs, kernelTakesFilterFlags),
      },
      apparmor: { enabled: accepts({ process: { apparmorProfile: 'x' } as Spec['process'] }) },
      selinux: { enabled: accepts({ process: { selinuxLabel: 'x' } as Spec['process'] }) },
      memoryPolicy: { modes: Object.keys(MEMORY_POLICY_MODES), flags: Object.keys(MEMORY_POLICY_FLAGS) },
      intelRdt: { enabled: false },
      mountExtensions: { idmap: { enabled: knownMountOptions().includes('idmap') && releaseAtLeast(kernelRelease, 5, 12) } },
      netDevices: { enabled: accepts({ linux: { netDevices: { eth0: {} } } }) },
    },
    annotations: {
      ...(library.version ? { 'io.github.seccomp.libseccomp.version': library.version } : {}),
      'org.opencontainers.tsrun.version': TSRUN_VERSION,
    },
    // Only those tsrun reads: with --systemd-cgroup, each becomes a property of the
    // container's unit (runc also lists its CRIU config and "bundle", of no use here).
    potentiallyUnsafeConfigAnnotations: [SYSTEMD_PROPERTY_ANNOTATION_PREFIX],
  };
}

/** The spec's seccomp actions (config-linux.md), each tried in a rule the planner must accept. */
const SECCOMP_ACTIONS = [
  'SCMP_ACT_KILL', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_TRAP', 'SCMP_ACT_ERRNO',
  'SCMP_ACT_TRACE', 'SCMP_ACT_ALLOW', 'SCMP_ACT_LOG', 'SCMP_ACT_NOTIFY',
];

/**
 * What the seccomp planner takes (src/linux/seccomp.ts), as runc reports it; the
 * architectures are those the planner names that the library can build for.
 */
function seccompFeatures(
  libraryArchs: string[],
  kernelTakes: (flags: number) => boolean,
): { actions: string[]; operators: string[]; archs: string[]; knownFlags: string[]; supportedFlags: string[] } {
  const plans = (seccomp: Record<string, unknown>): boolean => {
    try {
      return planSeccomp(seccomp, () => undefined) !== undefined;
    } catch (e) {
      if (e instanceof ConfigError) return false;
      throw e;
    }
  };
  const rule = (action: string, op = 'SCMP_CMP_EQ'): Record<string, unknown> => ({
    defaultAction: 'SCMP_ACT_ALLOW',
    listenerPath: '/run/agent.sock',
    syscalls: [{ names: ['getpid'], action, args: [{ index: 0, value: 1, op }] }],
  });
  // The flags a config may name (tsrun sets NEW_LISTENER and TSYNC_ESRCH itself), and
  // of those the ones this kernel takes, as runc probes them. WAIT_KILLABLE_RECV is
  // only taken beside NEW_LISTENER, which a filter using it has (it needs a listener).
  const flags = Object.keys(SECCOMP_FILTER_FLAG).filter((flag) => plans({ ...rule('SCMP_ACT_NOTIFY'), flags: [flag] })).sort();
  const listener = SECCOMP_FILTER_FLAG['SECCOMP_FILTER_FLAG_NEW_LISTENER'] as number;
  const probe = (flag: string): number =>
    (SECCOMP_FILTER_FLAG[flag] as number) | (flag === 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV' ? listener : 0);
  return {
    actions: SECCOMP_ACTIONS.filter((action) => plans(rule(action))).sort(),
    operators: Object.keys(SCMP_CMP).filter((op) => plans(rule('SCMP_ACT_ERRNO', op))).sort(),
    archs: libraryArchs.filter((arch) => plans({ defaultAction: 'SCMP_ACT_ALLOW', architectures: [arch] })).sort(),
    knownFlags: flags,
    supportedFlags: flags.filter((flag) => kernelTakes(probe(flag))),
  };
}
