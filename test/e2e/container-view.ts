// What a process sees of its container, one fact per line. The end-to-end suites
// run it in the same container, configured by the same engine (docker, podman),
// once under the runtime under test and once under runc, and compare the two.

export const CONTAINER_VIEW = [
  'id; umask; hostname',
  'grep -E "^(Cap|Seccomp|NoNewPrivs)" /proc/self/status',
  'cat /proc/self/oom_score_adj',
  'env | sort',
  'ulimit -a',
  'cat /proc/self/cgroup',
  // Mount point, its options, fs type and super options, in order.
  'sed -E "s/^[0-9]+ [0-9]+ [0-9]+:[0-9]+ [^ ]+ ([^ ]+) ([^ ]+).* - ([^ ]+) [^ ]+ (.*)$/mount \\1 \\2 \\3 \\4/" /proc/self/mountinfo',
  'stat -c "%n %F %a %u:%g %t:%T" /dev/* /dev/pts/* /dev/shm /dev/mqueue',
  // Masked: empty files, empty dirs (whichever of them this kernel has).
  'for f in /proc/keys /proc/timer_list /proc/kcore /proc/latency_stats /proc/sched_debug; do [ -e $f ] && echo "$f $(wc -c < $f)"; done',
  'for d in /proc/acpi /proc/scsi /sys/firmware; do [ -e $d ] && echo "$d $(ls $d | wc -l)"; done',
  '(echo 1 > /proc/sys/kernel/ns_last_pid) 2>/dev/null || echo sys-read-only',
  'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.shares',
].join('; ');

/** The container's id where the view shows it, as <id>: its hostname (12 hex digits) and cgroup leaf (64). */
export function withoutContainerId(view: string): string {
  return view.replace(/[0-9a-f]{64}/g, '<id>').replace(/\b[0-9a-f]{12}\b/g, '<id>');
}

/**
 * The view with its mounts sorted, for an engine whose config lists some mounts in
 * an order of its own that changes from one container to the next (podman 4.3 puts
 * /etc/hosts, /etc/hostname, /dev/shm and the like in Go map order): what is mounted
 * where is still compared, the order only within the rest.
 */
export function withMountsSorted(view: string): string {
  const lines = view.split('\n');
  const mounts = lines.filter((l) => l.startsWith('mount ')).sort();
  let next = 0;
  return lines.map((l) => (l.startsWith('mount ') ? (mounts[next++] as string) : l)).join('\n');
}

/**
 * `run` flags docker and podman both take, for a container with limits, a user, dropped
 * capabilities, no-new-privileges, a read-only rootfs, a tmpfs, a sysctl, a ulimit, a
 * device and a shm size.
 */
export const RESTRICTED_FLAGS = [
  '--memory', '64m', '--pids-limit', '50', '--cpus', '0.5', '--cpu-shares', '512',
  '--user', '1000:1000', '--group-add', '100', '--cap-drop', 'all', '--cap-add', 'NET_RAW', '--cap-add', 'CHOWN',
  '--security-opt', 'no-new-privileges', '--read-only', '--tmpfs', '/mnt:size=1m',
  '--sysctl', 'net.ipv4.ip_unprivileged_port_start=100', '--ulimit', 'nofile=512:512',
  '--device', '/dev/null:/dev/xnull', '--shm-size', '8m',
  '-e', 'FOO=bar', '-w', '/tmp', '--hostname', 'e2e-host', '--oom-score-adj', '300',
];

/** Two views of one container, under the runtime under test and under runc, are the same (and not two empty ones). */
export function expectSameView(ours: string, runcs: string, normalize: (view: string) => string = (v) => v): void {
  expect(normalize(withoutContainerId(ours))).toBe(normalize(withoutContainerId(runcs)));
  expect(ours).toMatch(/^uid=\d+\(\w+\) gid=/);
  expect(ours).toMatch(/^Seccomp:\s+2$/m);
}
