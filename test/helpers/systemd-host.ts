// A machine with systemd as PID 1, for the --systemd-cgroup tests on a host whose
// PID 1 is not systemd: a container (run by tsrun) booting the host's own systemd
// to basic.target, with a cgroup namespace, its cgroup hierarchies writable, and
// the host's /usr and /etc read-only. Runtimes run inside it with `exec` and find
// systemd where they would on a systemd host (/run/systemd/private, the system bus).
// Its cgroups lie below the suite's own parent; its /proc/sys, /sys and the host's
// files are read-only, so nothing systemd starts there reaches the host.

import * as fs from 'fs';
import * as path from 'path';
import { CAPABILITY_NAMES } from '../../src/linux/capabilities';
import type { Suite } from './suite';
import { repoRoot, sleep, TSRUN_BINARY, type RunResult, type RuntimeCli } from './runtime';

export const SYSTEMD = '/lib/systemd/systemd';

/** Why a systemd host cannot be booted here, or undefined. */
export function systemdHostSkipReason(): string | undefined {
  if (!fs.existsSync(SYSTEMD)) return `${SYSTEMD} is not installed (apt-get install systemd)`;
  if (!fs.existsSync('/usr/bin/dbus-daemon')) return 'dbus-daemon is not installed (apt-get install dbus)';
  return undefined;
}

export interface SystemdHost {
  /** Runs a command inside (stdin /dev/null, output through files: a container it starts must not hold the exec's pipes). */
  run(args: string[], timeoutMs?: number): RunResult;
  /** `systemctl show -p <names> <unit>` as a map. */
  show(unit: string, names: string[]): Record<string, string>;
  /** The host's path of a dir of the systemd host's cgroup tree, in one of the host's hierarchies ('memory', 'unified'). */
  hostCgroupDir(hierarchy: string, inner: string): string;
  /** The systemd host's cgroup, the parent of everything its systemd makes. */
  cgroupsPath: string;
}

/** The capabilities this process has in its bounding set (the host lacks some: CAP_SYS_RESOURCE here). */
function hostCapabilities(): string[] {
  const line = fs.readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith('CapBnd:'));
  const mask = BigInt(`0x${(line ?? 'CapBnd: 0').split(/\s+/)[1]}`);
  return CAPABILITY_NAMES.filter((_name, i) => ((mask >> BigInt(i)) & 1n) === 1n);
}

/**
 * Boots the systemd host. `unified`: its /sys/fs/cgroup is its part of the host's
 * cgroup2 hierarchy, so its systemd (and a runtime inside) sees a pure v2 host; else
 * the v1 hierarchies and the unified one as on this host (hybrid).
 */
export async function bootSystemdHost(s: Suite, outer: RuntimeCli, unified = false): Promise<SystemdHost> {
  const b = s.bundle({ id: `sdhost${unified ? 'v2' : ''}${process.pid}` });
  const rootfs = b.rootfs;
  // Merged /usr, as Debian's: the program dirs are links into the bound /usr.
  fs.rmSync(path.join(rootfs, 'bin'), { recursive: true, force: true });
  for (const dir of ['usr', 'run', 'var', 'work']) fs.mkdirSync(path.join(rootfs, dir), { recursive: true });
  for (const link of ['bin', 'sbin', 'lib', 'lib64']) fs.symlinkSync(`usr/${link}`, path.join(rootfs, link));
  const caps = hostCapabilities();
  b.rewrite((c) => {
    c.process.args = [SYSTEMD, '--unit=basic.target'];
    c.process.env = ['PATH=/usr/sbin:/usr/bin:/sbin:/bin', 'container=tsrun-test'];
    c.process.capabilities = { bounding: caps, effective: caps, permitted: caps };
    c.process.noNewPrivileges = false;
    c.root.readonly = false;
    c.linux.namespaces.push({ type: 'cgroup' });
    // The runtimes inside make the devices their containers get.
    c.linux.resources = { devices: [{ allow: true, access: 'rwm' }] };
    c.mounts = c.mounts.filter((m: { destination: string }) => m.destination !== '/sys/fs/cgroup');
    c.mounts.push(
      // Its own cgroups, writable: systemd makes its units' cgroups there.
      { destination: '/sys/fs/cgroup', type: unified ? 'cgroup2' : 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'rw'] },
      { destination: '/usr', type: 'bind', source: '/usr', options: ['rbind', 'ro'] },
      { destination: '/etc', type: 'bind', source: '/etc', options: ['rbind', 'ro'] },
      { destination: '/run', type: 'tmpfs', source: 'tmpfs', options: ['mode=755', 'nosuid', 'nodev'] },
      { destination: '/var', type: 'tmpfs', source: 'tmpfs', options: ['mode=755'] },
      { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['mode=1777'] },
      // The project (its bin/tsrun, build/ and dist/) and this suite's dir, at their own paths.
      { destination: repoRoot(), type: 'bind', source: repoRoot(), options: ['rbind', 'ro'] },
      { destination: s.env.tmp, type: 'bind', source: s.env.tmp, options: ['rbind', 'rw'] },
    );
  });
  const io = path.join(s.env.tmp, `${b.id}-io`);
  fs.mkdirSync(io, { recursive: true });
  const started = outer.run(['run', '-d', '--bundle', b.dir, b.id]);
  if (started.code !== 0) throw new Error(`systemd host did not start: ${started.stderr}`);

  let n = 0;
  const run = (args: string[], timeoutMs = 60_000): RunResult => {
    n++;
    const out = path.join(io, `${n}.out`);
    const err = path.join(io, `${n}.err`);
    const r = outer.run(['exec', b.id, 'sh', '-c', `exec "$@" >${out} 2>${err} </dev/null`, 'sh', ...args], { timeoutMs });
    const read = (f: string): string => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : '');
    return { ...r, stdout: read(out), stderr: r.stderr + read(err), args };
  };
  // Up once systemctl can say so: "running", or "degraded" with a unit failed (it
  // may find the host's /etc asking for things a container cannot do).
  for (let i = 0; ; i++) {
    const r = run(['systemctl', 'is-system-running']);
    if (/^(running|degraded)\s*$/.test(r.stdout)) break;
    if (i > 150) throw new Error(`systemd host not up after 30 s: ${r.stdout} ${r.stderr}`);
    await sleep(200);
  }
  if (!fs.existsSync('/usr/bin/node') && !process.execPath.startsWith('/usr/')) throw new Error(`node (${process.execPath}) is not below /usr: the systemd host cannot run ${TSRUN_BINARY}`);
  return {
    run,
    show(unit, names) {
      const r = run(['systemctl', 'show', ...names.flatMap((p) => ['-p', p]), unit]);
      return Object.fromEntries(r.stdout.split('\n').filter(Boolean).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    },
    hostCgroupDir: (hierarchy, inner) => path.join('/sys/fs/cgroup', hierarchy, b.cgroupsPath, inner),
    cgroupsPath: b.cgroupsPath,
  };
}
