// What state.json records about one container. The file is private to tsrun (runc's
// state.json has a different, Go-specific shape); the OCI `state` output is derived
// from it by toOciState() in status.ts.

export type ContainerStatus = 'creating' | 'created' | 'running' | 'paused' | 'stopped';

export interface ContainerState {
  ociVersion: string;
  id: string;
  /** Init pid as seen from the host's pid namespace; 0 until the init exists. */
  pid: number;
  /** Field 22 of /proc/<pid>/stat when the init was recorded: tells a reused pid apart. */
  startTime: string;
  /** Absolute bundle dir. */
  bundle: string;
  /** Absolute rootfs dir. */
  rootfs: string;
  /** RFC 3339 UTC time of create. */
  created: string;
  /** runc's `state` always prints "" here. */
  owner: string;
  annotations: Record<string, string>;
  /**
   * Cgroup dir per hierarchy (see CgroupManager.paths()), recorded at create. Later
   * commands use these instead of resolving cgroupsPath again: a relative
   * cgroupsPath depends on the cgroup of the calling process, which may differ.
   */
  cgroupPaths: Record<string, string>;
  /**
   * Cgroup dirs that create() made (leaves and parents). delete removes the leaves
   * among them (parents stay for their siblings, as with runc), so a pre-existing
   * cgroup named by cgroupsPath is never removed. Absent when a create crashed
   * before recording it: then only the leaves in cgroupPaths that are empty are
   * removed.
   */
  cgroupCreated?: string[];
  /** The bundle's config.json as loaded. */
  config: Record<string, unknown>;
  /** --systemd-cgroup: the systemd scope that holds the container's cgroups (later commands stop it and set its properties). */
  systemdUnit?: string;
  /** create --no-new-keyring: the container kept the caller's session keyring, and so does exec. */
  noNewKeyring?: boolean;
  /**
   * The exec FIFO protocol of the container's init (addon/PROTOCOL.md, *The exec FIFO*):
   * 2, its init writes `x` before its execve or `e<message>` when it fails, and keeps
   * its end open until then. Absent from a state written by an older tsrun, whose init
   * may be one that wrote `0` and closed its end at once (before 6b8513c): then a `0`
   * alone followed by an init that is gone is a start that already ended, not a death.
   */
  fifoProtocol?: 2;
  /** Present only while `create` runs. */
  status?: 'creating';
}

/** runc's `state` output, keys in runc's order (it matters to byte-comparing callers). */
export interface OciState {
  ociVersion: string;
  id: string;
  pid: number;
  status: ContainerStatus;
  bundle: string;
  rootfs: string;
  created: string;
  annotations?: Record<string, string>;
  owner: string;
}
