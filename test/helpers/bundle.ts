// Builds OCI bundles for integration and differential tests: a tiny rootfs made
// of Debian's static busybox plus a config.json that starts as exactly what
// `runc spec` prints, so every test begins from the configuration callers such
// as runc users actually write, and changes only what it means to test.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as crypto from 'crypto';
import { spawnSync } from 'child_process';

/** Loose typing on purpose: tests also write invalid configs (schema tests). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Spec = any;

/**
 * `runc spec` output of runc 1.1.5 (Debian bookworm), verbatim. Written here
 * rather than generated so tests do not depend on runc being installed (the
 * differential suite is the only one that needs runc).
 */
const RUNC_SPEC = JSON.stringify({
  ociVersion: '1.0.2-dev',
  process: {
    terminal: true,
    user: { uid: 0, gid: 0 },
    args: ['sh'],
    env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
    cwd: '/',
    capabilities: {
      bounding: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
      effective: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
      permitted: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
      ambient: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
    },
    rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
    noNewPrivileges: true,
  },
  root: { path: 'rootfs', readonly: true },
  hostname: 'runc',
  mounts: [
    { destination: '/proc', type: 'proc', source: 'proc' },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
  ],
  linux: {
    resources: { devices: [{ allow: false, access: 'rwm' }] },
    namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }],
    maskedPaths: [
      '/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats',
      '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/sys/firmware', '/proc/scsi',
    ],
    readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
  },
});

/** A fresh deep copy of `runc spec` output. */
export function runcSpec(): Spec {
  return JSON.parse(RUNC_SPEC);
}

/** Applets linked into the rootfs; everything the suites run inside containers. */
export const APPLETS = [
  'sh', 'echo', 'cat', 'ls', 'hostname', 'id', 'sleep', 'true', 'false', 'env', 'pwd',
  'mount', 'grep', 'sed', 'awk', 'head', 'tail', 'sort', 'wc', 'readlink', 'stat', 'ps',
  'kill', 'test', 'whoami', 'nproc', 'uname', 'mkdir', 'touch', 'rm', 'cut', 'nc', 'unshare',
];

const BUSYBOX_CANDIDATES = ['/usr/bin/busybox', '/bin/busybox'];

/** True when the ELF file has no PT_INTERP program header, i.e. is statically linked. */
function isStaticElf(file: string): boolean {
  const buf = fs.readFileSync(file);
  if (buf.length < 64 || buf.readUInt32BE(0) !== 0x7f454c46) return false;
  const is64 = buf[4] === 2;
  const le = buf[5] === 1;
  const u16 = (o: number) => (le ? buf.readUInt16LE(o) : buf.readUInt16BE(o));
  const u32 = (o: number) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const u64 = (o: number) => Number(le ? buf.readBigUInt64LE(o) : buf.readBigUInt64BE(o));
  const phoff = is64 ? u64(32) : u32(28);
  const phentsize = u16(is64 ? 54 : 42);
  const phnum = u16(is64 ? 56 : 44);
  for (let i = 0; i < phnum; i++) {
    if (u32(phoff + i * phentsize) === 3 /* PT_INTERP */) return false;
  }
  return true;
}

let busyboxPath: string | undefined;

/**
 * The static busybox to copy into rootfs. A dynamic busybox would not run in
 * a rootfs without libc, and the failure would look like a runtime bug, so
 * refuse it with a message that says what to install.
 */
export function findBusybox(): string {
  if (busyboxPath) return busyboxPath;
  for (const c of BUSYBOX_CANDIDATES) {
    if (fs.existsSync(c) && isStaticElf(c)) return (busyboxPath = c);
  }
  throw new Error(
    `no static busybox found at ${BUSYBOX_CANDIDATES.join(' or ')}: install Debian's busybox-static ` +
      '(scripts/install-test-deps.sh does)',
  );
}

/**
 * Per-test-file isolation: a temp dir for bundles/state and a cgroup parent
 * that no one else uses, so cleanup can remove everything under it without any
 * risk of touching cgroups the tests did not create.
 */
export interface TestEnv {
  /** Temp dir holding bundles, state roots and stdio capture files. */
  tmp: string;
  /** Absolute cgroup parent, `/tsrun-test-<random>`. */
  cgroupParent: string;
}

export function newTestEnv(label = 'x'): TestEnv {
  const rand = crypto.randomBytes(5).toString('hex');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `tsrun-test-${label}-`));
  // Bundles live in dirs that are not world-readable-by-accident issues; runc
  // requires nothing special but the container's rootfs must be traversable.
  fs.chmodSync(tmp, 0o755);
  return { tmp, cgroupParent: `/tsrun-test-${rand}` };
}

export interface Bundle {
  dir: string;
  rootfs: string;
  configPath: string;
  /** The id tests should use with this bundle; also the cgroup leaf name. */
  id: string;
  cgroupsPath: string;
  config: Spec;
  /** Rewrite config.json after changing it (forced fields are re-applied). */
  rewrite(mutate?: (c: Spec) => void): void;
}

export interface BundleOptions {
  /** Container id; defaults to a random one. Used in cgroupsPath too. */
  id?: string;
  /** Change the base config; runs before the forced fields are applied. */
  configure?: (c: Spec) => void;
}

let counter = 0;

export function uniqueId(prefix = 'c'): string {
  counter++;
  return `${prefix}${process.pid}-${counter}-${crypto.randomBytes(2).toString('hex')}`;
}

/** /etc files so that `id` shows names and `user` fields can refer to real entries. */
const PASSWD = [
  'root:x:0:0:root:/root:/bin/sh',
  'user:x:1000:1000:user:/home/user:/bin/sh',
  'nobody:x:65534:65534:nobody:/nonexistent:/bin/false',
  '',
].join('\n');
const GROUP = ['root:x:0:', 'tty:x:5:', 'users:x:100:user', 'user:x:1000:', 'nogroup:x:65534:', ''].join('\n');

let available: Set<string> | undefined;

/** Applets this busybox really has, so no rootfs gets a dangling link. */
function availableApplets(): Set<string> {
  if (!available) {
    const r = spawnSync(findBusybox(), ['--list'], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${findBusybox()} --list failed`);
    available = new Set(r.stdout.split('\n').filter(Boolean));
  }
  return available;
}

function buildRootfs(rootfs: string): void {
  const bin = path.join(rootfs, 'bin');
  fs.mkdirSync(bin, { recursive: true });
  fs.copyFileSync(findBusybox(), path.join(bin, 'busybox'));
  fs.chmodSync(path.join(bin, 'busybox'), 0o755);
  const missing = APPLETS.filter((a) => !availableApplets().has(a));
  if (missing.length) throw new Error(`busybox lacks applets the tests use: ${missing.join(' ')}`);
  for (const a of APPLETS) fs.symlinkSync('busybox', path.join(bin, a));
  for (const d of ['proc', 'sys', 'dev', 'etc', 'root', 'home/user', 'mnt']) {
    fs.mkdirSync(path.join(rootfs, d), { recursive: true });
  }
  fs.mkdirSync(path.join(rootfs, 'tmp'), { mode: 0o1777 });
  fs.chmodSync(path.join(rootfs, 'tmp'), 0o1777);
  fs.chownSync(path.join(rootfs, 'home/user'), 1000, 1000);
  fs.writeFileSync(path.join(rootfs, 'etc/passwd'), PASSWD);
  fs.writeFileSync(path.join(rootfs, 'etc/group'), GROUP);
}

/** Fields every test bundle must have, whatever the test configured. */
function force(c: Spec, cgroupsPath: string): void {
  if (c.process && typeof c.process === 'object') {
    // No test has a console socket; a terminal would make create fail or hang.
    c.process.terminal = false;
  }
  c.linux = c.linux && typeof c.linux === 'object' ? c.linux : {};
  // Absolute path under our own parent: a relative path would land under the
  // test runner's own cgroup (on this machine /process_api/... in memory).
  c.linux.cgroupsPath = cgroupsPath;
}

export function makeBundle(env: TestEnv, opts: BundleOptions = {}): Bundle {
  const id = opts.id ?? uniqueId();
  // The id may be deliberately invalid (`../x`); keep paths and cgroup leaves sane.
  const safe = id.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^\.+/, '_');
  const dir = fs.mkdtempSync(path.join(env.tmp, `bundle-${safe}-`));
  const rootfs = path.join(dir, 'rootfs');
  buildRootfs(rootfs);
  const cgroupsPath = `${env.cgroupParent}/${safe}`;
  const configPath = path.join(dir, 'config.json');
  const bundle: Bundle = {
    dir,
    rootfs,
    configPath,
    id,
    cgroupsPath,
    config: runcSpec(),
    rewrite(mutate) {
      if (mutate) mutate(bundle.config);
      // Always forced, even for schema tests: a config without an absolute
      // cgroupsPath could make a runtime create cgroups under the runner's own.
      force(bundle.config, cgroupsPath);
      fs.writeFileSync(configPath, JSON.stringify(bundle.config, null, 2));
    },
  };
  bundle.config.process.args = ['true'];
  bundle.rewrite(opts.configure);
  return bundle;
}
