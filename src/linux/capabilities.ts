// Capability names -> bit numbers, and the masks the init applies.

/** Index = capability number (linux/capability.h). */
export const CAPABILITY_NAMES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL',
  'CAP_SETGID', 'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT',
  'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE',
  'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG',
  'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
] as const;

export interface CapabilityMasks {
  bounding: bigint;
  effective: bigint;
  permitted: bigint;
  inheritable: bigint;
  ambient: bigint;
}

export interface CapabilitySets {
  bounding?: string[];
  effective?: string[];
  permitted?: string[];
  inheritable?: string[];
  ambient?: string[];
}

/**
 * Builds the five masks. A name the kernel does not know (above lastCap) or that
 * tsrun does not know is never granted; it is reported through `warn`, as the
 * runtime spec asks runtimes not to fail on it.
 */
export function capabilityMasks(sets: CapabilitySets | undefined, lastCap: number, warn: (message: string) => void): CapabilityMasks {
  const unknown = new Set<string>();
  const mask = (names: string[] | undefined): bigint => {
    let m = 0n;
    for (const name of names ?? []) {
      const bit = (CAPABILITY_NAMES as readonly string[]).indexOf(name);
      if (bit < 0 || bit > lastCap) {
        unknown.add(name);
        continue;
      }
      m |= 1n << BigInt(bit);
    }
    return m;
  };
  const masks: CapabilityMasks = {
    bounding: mask(sets?.bounding),
    effective: mask(sets?.effective),
    permitted: mask(sets?.permitted),
    inheritable: mask(sets?.inheritable),
    ambient: mask(sets?.ambient),
  };
  for (const name of unknown) warn(`unknown or unavailable capability "${name}" ignored`);
  // The kernel raises an ambient capability only when it is both permitted and
  // inheritable; runc drops the others silently (its default spec lists ambient
  // capabilities without inheritable ones), and so does tsrun.
  masks.ambient &= masks.permitted & masks.inheritable;
  return masks;
}

export function allCapabilities(lastCap: number): string[] {
  return CAPABILITY_NAMES.slice(0, lastCap + 1);
}
