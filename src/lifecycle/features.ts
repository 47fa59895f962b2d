// The runtime-spec features document (features.md), as `tsrun features` prints it.
// Each entry is derived from the code that implements it — a hook kind or seccomp is
// reported only if checkSupported() accepts it — so the document cannot claim more
// than tsrun does.
import type { Spec } from '../config/types';
import { checkSupported } from '../config/support';
import { NotSupportedError } from '../errors';
import { CAPABILITY_NAMES } from '../linux/capabilities';
import { knownMountOptions } from '../linux/mount-options';
import { CLONE_FLAGS } from '../linux/namespaces';
import { OCI_VERSION, TSRUN_VERSION } from '../version';

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
    seccomp: { enabled: boolean };
    apparmor: { enabled: boolean };
    selinux: { enabled: boolean };
    intelRdt: { enabled: boolean };
    mountExtensions: { idmap: { enabled: boolean } };
  };
  annotations: Record<string, string>;
}

export function features(): Features {
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
      cgroup: { v1: true, v2: true, systemd: false, systemdUser: false, rdma: accepts({ linux: { resources: { rdma: { x: { hcaHandles: 1 } } } } }) },
      seccomp: { enabled: accepts({ linux: { seccomp: { defaultAction: 'SCMP_ACT_ALLOW' } } }) },
      apparmor: { enabled: accepts({ process: { apparmorProfile: 'x' } as Spec['process'] }) },
      selinux: { enabled: accepts({ process: { selinuxLabel: 'x' } as Spec['process'] }) },
      intelRdt: { enabled: false },
      mountExtensions: { idmap: { enabled: false } },
    },
    annotations: { 'org.opencontainers.tsrun.version': TSRUN_VERSION },
  };
}
