'use strict';
// A private containerd for tsrun's end-to-end tests and benchmarks.
//
// One module, plain Node (no build step), so the jest suite
// (test/e2e/containerd.ts) and bench/ctr-run.js share the exact same start,
// drive and teardown logic instead of two copies that drift apart.
//
// Everything a harness creates is scoped so teardown can remove it without
// any chance of touching what is not ours:
//   - a temp dir /tmp/tsrun-e2e-<label>-XXXXXX holding config.toml, containerd's
//     root and state, its gRPC and ttrpc sockets, IO fifos, the runc --root
//     for ctr --runc-root, and TMPDIR of the shims (console sockets, exec
//     process files);
//   - a containerd namespace tsrun-e2e-<hex> (shims carry it in their argv);
//   - a cgroup parent /tsrun-e2e-<hex>: every container gets an absolute
//     `ctr run --cgroup /tsrun-e2e-<hex>/<id>`, never a relative path (which
//     would land under this process's own cgroup, /process_api/... here).
// Two things containerd 1.6 places outside any configurable dir, and which
// teardown removes by exact name: shim sockets /run/containerd/s/<sha256 of
// address/namespace/id>, and the runc root /run/containerd/runc/<namespace>
// that the runc shim uses when the client passes no Root option (the
// named-runtime path, see registerRuntime).
//
// Processes are stopped by PID only: containerd by the PID we spawned, shims
// found by their argv naming our private socket, container processes by
// membership of our cgroup parent.
//
// CLI (for people and CI):
//   node scripts/containerd/harness.js check     list leftovers of any harness on this machine, exit 1 if any
//   node scripts/containerd/harness.js clean     tear down harnesses left by test processes that died
//   node scripts/containerd/harness.js shell     start one, print how to reach it, tear down on Ctrl-C

const fs = require('fs');
const os = require('os');
const path = require('path');
const crypto = require('crypto');
const { spawn, spawnSync } = require('child_process');
const {
  pidAlive, allPids, hostMounts, cgroupHierarchies, cgroupDirsOf, processesInScope, thawCgroups, killUntilGone,
  mountsUnder, unmountUnder, removeCgroupDir,
} = require('../lib/host-scope');
const { spawnWithStdioOnly } = require('../lib/daemon-spawn');

const CONTAINERD = process.env.TSRUN_E2E_CONTAINERD || 'containerd';
const CTR = process.env.TSRUN_E2E_CTR || 'ctr';
/** The runc shim containerd itself would start for io.containerd.runc.v2. */
const RUNC_SHIM = 'containerd-shim-runc-v2';
/** Fixed in containerd 1.6 (defaults.DefaultStateDir): shim sockets and the default runc root live here. */
const CONTAINERD_RUN = '/run/containerd';

const TMP_RE = /^tsrun-e2e-[A-Za-z0-9_.-]+$/;
const NAME_RE = /^tsrun-e2e-[0-9a-f]+$/;

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

/** First PATH entry holding an executable `name`, or undefined. */
function which(name) {
  if (name.includes('/')) return fs.existsSync(name) ? name : undefined;
  for (const dir of (process.env.PATH || '/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    const p = path.join(dir || '.', name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return undefined;
}

/** Why a harness cannot run here (not root, containerd/ctr/shim missing), or undefined. */
function skipReason() {
  if (process.getuid && process.getuid() !== 0) return 'containerd e2e needs root';
  for (const b of [CONTAINERD, CTR, RUNC_SHIM]) {
    if (!which(b)) return `${b} not installed (Debian package containerd)`;
  }
  return undefined;
}

/** Single-quote for /bin/sh. */
function shq(s) {
  return `'${String(s).replace(/'/g, `'\\''`)}'`;
}

function readCmdline(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((x, i, a) => x !== '' || i < a.length - 1);
  } catch {
    return undefined;
  }
}

/** Run a command with a bounded time, async (jest stays responsive), output captured. */
function runCmd(cmd, args, opts = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      env: opts.env || process.env,
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    if (opts.input !== undefined) child.stdin.end(opts.input);
    const t = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs || 30000);
    child.on('error', (e) => {
      clearTimeout(t);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(t);
      resolve({ code: code === null ? 128 + (os.constants.signals[signal] || 0) : code, signal, stdout, stderr, timedOut, args });
    });
  });
}

/**
 * config.toml, version 2 (containerd 1.5-1.7; 1.6.20 here). Plugins that are
 * not needed are disabled so the private instance touches nothing outside
 * its temp dir and no network:
 *   - io.containerd.grpc.v1.cri: would set up CNI, a streaming server, and
 *     pull sandbox images; ctr does not use it;
 *   - io.containerd.internal.v1.opt: would create /opt/containerd;
 *   - aufs/btrfs/devmapper/zfs snapshotters: probe host devices and pools;
 *   - tracing exporters: would try to reach a collector.
 * io.containerd.runtime.v1.linux stays: the tasks service refuses to load
 * without it in 1.6, and it only creates dirs under our root/state.
 * The debug and metrics listeners are off (empty address).
 */
function configToml(dirs) {
  const q = (s) => JSON.stringify(s); // TOML basic strings accept JSON string escapes
  return [
    'version = 2',
    `root = ${q(dirs.root)}`,
    `state = ${q(dirs.state)}`,
    `temp = ${q(dirs.ctdTemp)}`,
    'oom_score = 0',
    'disabled_plugins = [',
    '  "io.containerd.grpc.v1.cri",',
    '  "io.containerd.internal.v1.opt",',
    '  "io.containerd.snapshotter.v1.aufs",',
    '  "io.containerd.snapshotter.v1.btrfs",',
    '  "io.containerd.snapshotter.v1.devmapper",',
    '  "io.containerd.snapshotter.v1.zfs",',
    '  "io.containerd.tracing.processor.v1.otlp",',
    '  "io.containerd.internal.v1.tracing",',
    ']',
    '',
    '[grpc]',
    `  address = ${q(dirs.address)}`,
    '',
    '[ttrpc]',
    `  address = ${q(dirs.ttrpcAddress)}`,
    '',
    '[debug]',
    '  address = ""',
    '  level = "debug"',
    '',
    '[metrics]',
    '  address = ""',
    '',
    '[plugins."io.containerd.monitor.v1.cgroups"]',
    '  no_prometheus = true',
    '',
    // A note for readers: containerd 1.6 has no runtime registry outside the
    // CRI plugin ([plugins."io.containerd.grpc.v1.cri".containerd.runtimes.X]
    // with runtime_type and options.BinaryName is read by CRI only, never by
    // ctr). For ctr a runtime name selects a shim binary; see registerRuntime.
    '',
  ].join('\n');
}

/**
 * An executable /bin/sh wrapper around a runtime binary that records each
 * invocation, for contract tests and for learning what the shim passes:
 *   argvLog:   one line per call, args separated by \x1f (unit separator);
 *   fdLog:     one line per call: the fds open in the runtime ("<fd>:<target>;...");
 *   copyLogTo: run the runtime as a child (not exec) and afterwards append the
 *              file named by its --log flag here, since the shim deletes the
 *              bundle (and the log) before a test could read it.
 */
function writeRuntimeWrapper(file, runtime, opts = {}) {
  const lines = ['#!/bin/sh', '# Written by scripts/containerd/harness.js: records how the shim calls the runtime.'];
  if (opts.argvLog) {
    lines.push(`{ for a in "$@"; do printf '%s\\037' "$a"; done; printf '\\n'; } >> ${shq(opts.argvLog)}`);
  }
  if (opts.fdLog) {
    // The fds this shell will pass on to the runtime: those of the shell itself
    // ($$, read from a subshell so its redirections do not show), minus the
    // close-on-exec ones (O_CLOEXEC is 02000000 in fdinfo flags), such as
    // dash's own fd for this script.
    lines.push(
      '(',
      '  for f in /proc/$$/fd/*; do',
      '    n=${f##*/}',
      "    fl=$(sed -n 's/^flags:[[:space:]]*//p' /proc/$$/fdinfo/$n 2>/dev/null)",
      '    [ -n "$fl" ] && [ $(( 0$fl & 02000000 )) -ne 0 ] && continue',
      '    printf \'%s:%s;\' "$n" "$(readlink "$f")"',
      '  done',
      "  printf '\\n'",
      `) >> ${shq(opts.fdLog)} 2>/dev/null`,
    );
  }
  if (opts.copyLogTo) {
    lines.push(
      'log=; prev=',
      'for a in "$@"; do',
      '  case "$prev" in --log) log=$a ;; esac',
      '  case "$a" in --log=*) log=${a#--log=} ;; esac',
      '  prev=$a',
      'done',
      `${shq(runtime)} "$@"`,
      'rc=$?',
      `[ -n "$log" ] && [ -f "$log" ] && cat "$log" >> ${shq(opts.copyLogTo)}`,
      'exit $rc',
    );
  } else {
    lines.push(`exec ${shq(runtime)} "$@"`);
  }
  fs.writeFileSync(file, lines.join('\n') + '\n', { mode: 0o755 });
  return file;
}

/** Parse a wrapper's argvLog into calls (arrays of args). */
function readArgvLog(file) {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split('\x1f').slice(0, -1));
}

class Harness {
  /**
   * Start a private containerd. `label` names the temp dir (letters/digits);
   * `log` receives progress lines (default: silent).
   */
  static async start(opts = {}) {
    const reason = skipReason();
    if (reason) throw new Error(`cannot start containerd: ${reason}`);
    const h = new Harness(opts);
    try {
      await h._start(opts.startTimeoutMs || 20000);
    } catch (e) {
      const problems = await h.stop().catch((e2) => [String(e2)]);
      if (problems.length) e.message += `\n(teardown after failed start: ${problems.join('; ')})`;
      throw e;
    }
    return h;
  }

  /**
   * The harness of a test process that died without tearing down (its
   * harness.json names it), so `harness.js clean` can remove what it left.
   */
  static adopt(tmp) {
    const rec = JSON.parse(fs.readFileSync(path.join(tmp, 'harness.json'), 'utf8'));
    const h = new Harness({ adopt: { tmp, ...rec } });
    h.pid = rec.pid;
    h.exited = !pidAlive(rec.pid) || !(readCmdline(rec.pid) || []).includes(h.configPath);
    return h;
  }

  constructor(opts) {
    const label = (opts.label || 'x').replace(/[^A-Za-z0-9]/g, '');
    const hex = crypto.randomBytes(5).toString('hex');
    const adopt = opts.adopt;
    this.tmp = adopt ? adopt.tmp : fs.mkdtempSync(path.join(os.tmpdir(), `tsrun-e2e-${label}-`));
    fs.chmodSync(this.tmp, 0o755); // container rootfs dirs below must be traversable
    this.namespace = adopt ? adopt.namespace : `tsrun-e2e-${hex}`;
    this.cgroupParent = adopt ? adopt.cgroupParent : `/tsrun-e2e-${hex}`;
    this.log = opts.log || (() => {});
    const d = (n) => path.join(this.tmp, n);
    this.configPath = d('config.toml');
    this.root = d('root');
    this.state = d('state');
    this.address = d('containerd.sock');
    this.ttrpcAddress = d('containerd.sock.ttrpc');
    this.fifoDir = d('fifo');
    this.runcRoot = d('runc'); // ctr --runc-root; the shim appends /<namespace>
    this.binDir = d('bin'); // first on containerd's PATH: shims for named runtimes
    // containerd's `temp` dir: containerd sets TMPDIR to it, so its shims put
    // console sockets (pty*/pty.sock) and exec process files (runc-process*) here.
    this.shimTmp = d('tmp');
    this.logFile = d('containerd.log');
    this.wrapDir = d('wrappers');
    for (const p of [this.root, this.state, this.fifoDir, this.runcRoot, this.binDir, this.shimTmp, this.wrapDir]) {
      fs.mkdirSync(p, { recursive: true });
    }
    // unix socket paths are limited to 108 bytes; the shim's own sockets are
    // in /run/containerd/s so only ours matter.
    if (Buffer.byteLength(this.ttrpcAddress) > 100) throw new Error(`socket path too long: ${this.ttrpcAddress}`);
    /** Did /run/containerd and its subdirs exist before we started? Only what we created is removed. */
    this.preexisting = {};
    for (const p of [CONTAINERD_RUN, path.join(CONTAINERD_RUN, 's'), path.join(CONTAINERD_RUN, 'runc')]) {
      this.preexisting[p] = adopt ? !!(adopt.preexisting || {})[p] : fs.existsSync(p);
    }
    /** Rootfs dirs registered by callers, to find container processes outside our cgroups. */
    this.rootfsDirs = adopt ? adopt.rootfsDirs || [] : [];
    this.child = undefined;
    this.pid = undefined;
    this.exited = false;
    this.stopped = false;
  }

  /**
   * containerd's environment, which shims and runtimes inherit: minimal, like
   * a service manager's. NODE_EXTRA_CA_CERTS in particular must not reach a
   * Node runtime (it adds ~40 ms per start and containerd never has it), nor
   * any other NODE_* / npm_* / jest variable of the test process.
   */
  _env() {
    return {
      PATH: `${this.binDir}:${process.env.PATH || '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'}`,
      TMPDIR: this.shimTmp,
      LANG: 'C.UTF-8',
    };
  }

  async _start(timeoutMs) {
    fs.writeFileSync(this.configPath, configToml({
      root: this.root,
      state: this.state,
      ctdTemp: this.shimTmp,
      address: this.address,
      ttrpcAddress: this.ttrpcAddress,
    }));
    const logFd = fs.openSync(this.logFile, 'a');
    try {
      this.child = spawnWithStdioOnly(which(CONTAINERD), ['--config', this.configPath], logFd, this._env());
    } finally {
      fs.closeSync(logFd);
    }
    this.pid = this.child.pid;
    this._record();
    this.child.on('exit', () => (this.exited = true));
    this.child.on('error', () => (this.exited = true));
    this.log(`containerd pid ${this.pid}, socket ${this.address}`);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.exited) throw new Error(`containerd exited during start-up:\n${this.logTail()}`);
      if (fs.existsSync(this.address)) {
        const r = await runCmd(which(CTR), ['--address', this.address, '--timeout', '2s', 'version'], { timeoutMs: 5000 });
        if (r.code === 0 && /Server:/.test(r.stdout)) break;
      }
      if (Date.now() > deadline) throw new Error(`containerd did not answer on ${this.address} within ${timeoutMs} ms:\n${this.logTail()}`);
      await sleep(100);
    }
  }

  logTail(n = 30) {
    try {
      return fs.readFileSync(this.logFile, 'utf8').split('\n').slice(-n).join('\n');
    } catch {
      return '(no containerd log)';
    }
  }

  /** ctr's global flags for this instance. */
  ctrArgs(args) {
    return ['--address', this.address, '--namespace', this.namespace, ...args];
  }

  /** Run ctr against this instance (bounded; never throws for a non-zero exit). */
  ctr(args, opts = {}) {
    return runCmd(which(CTR), this.ctrArgs(args), { ...opts, env: { ...this._env(), ...(opts.env || {}) } });
  }

  /** Synchronous variant for tight timing loops (bench). */
  ctrSync(args, opts = {}) {
    const r = spawnSync(which(CTR), this.ctrArgs(args), {
      env: this._env(),
      encoding: 'utf8',
      timeout: opts.timeoutMs || 30000,
      killSignal: 'SIGKILL',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return { code: r.status === null ? -1 : r.status, signal: r.signal, stdout: r.stdout || '', stderr: r.stderr || '', timedOut: !!r.error };
  }

  /** The cgroup path a container id gets: absolute, under our parent. */
  cgroupOf(id) {
    return `${this.cgroupParent}/${id}`;
  }

  trackRootfs(dir) {
    this.rootfsDirs.push(dir);
    this._record();
  }

  /** harness.json: what `harness.js clean` needs if this process dies before stop(). */
  _record() {
    const rec = {
      ownerPid: process.pid,
      pid: this.pid,
      namespace: this.namespace,
      cgroupParent: this.cgroupParent,
      preexisting: this.preexisting,
      rootfsDirs: this.rootfsDirs,
    };
    fs.writeFileSync(path.join(this.tmp, 'harness.json'), JSON.stringify(rec, null, 1));
  }

  /**
   * Arguments for `ctr run` with a local rootfs through the runc shim and a
   * given runtime binary:
   *   ctr run --rootfs --runc-binary RT --runc-root R --fifo-dir F --cgroup /P/ID [-d|--rm] [-t] ROOTFS ID ARGS...
   * --rootfs makes containerd use the dir as is (no snapshotter, no image, so
   * no PATH either: commands must be absolute). `runtime: {name}` selects a
   * registered runtime instead (`--runtime NAME`, no runc options).
   */
  runArgs(o) {
    const a = ['run', '--rootfs', '--fifo-dir', this.fifoDir, '--cgroup', this.cgroupOf(o.id)];
    if (o.runtimeName) a.push('--runtime', o.runtimeName);
    else a.push('--runc-binary', o.runtime, '--runc-root', this.runcRoot);
    if (o.rm) a.push('--rm');
    if (o.detach) a.push('-d');
    if (o.tty) a.push('-t');
    if (o.logFile) a.push('--log-uri', `file://${o.logFile}`);
    if (o.extra) a.push(...o.extra);
    a.push(o.rootfs, o.id, ...(o.args || ['/bin/true']));
    return a;
  }

  /**
   * Register a runtime by name. containerd 1.6 resolves `ctr run --runtime
   * io.containerd.<name>.v2` to a shim binary `containerd-shim-<name>-v2` on
   * its own PATH (ours starts with binDir); a runtime-specific config
   * (BinaryName) exists only in the CRI plugin. So the named runtime is a shim
   * wrapper that execs Debian's runc shim with a PATH on which `runc` is the
   * runtime: the shim runs "runc" when no BinaryName option is given, which is
   * exactly what ctr sends for a non-runc.v2 runtime name. The shim then uses
   * its default runc root /run/containerd/runc/<namespace> (removed at stop).
   * Returns the runtime name for `ctr run --runtime`.
   */
  registerRuntime(name, runtime) {
    if (!/^[a-z0-9]+$/.test(name)) throw new Error(`runtime name must be [a-z0-9]+: ${name}`);
    const rtDir = path.join(this.tmp, `rt-${name}`);
    fs.mkdirSync(rtDir, { recursive: true });
    fs.rmSync(path.join(rtDir, 'runc'), { force: true });
    fs.symlinkSync(runtime, path.join(rtDir, 'runc'));
    const shim = path.join(this.binDir, `containerd-shim-${name}-v2`);
    fs.writeFileSync(
      shim,
      [
        '#!/bin/sh',
        `# Named runtime io.containerd.${name}.v2 of a private tsrun e2e containerd: the runc shim, with`,
        `# "runc" resolving to ${runtime}.`,
        `PATH=${shq(rtDir)}:$PATH exec ${shq(which(RUNC_SHIM))} "$@"`,
        '',
      ].join('\n'),
      { mode: 0o755 },
    );
    return `io.containerd.${name}.v2`;
  }

  /** A recording wrapper around `runtime` in our temp dir (see writeRuntimeWrapper). */
  wrapper(name, runtime, opts) {
    return writeRuntimeWrapper(path.join(this.wrapDir, name), runtime, opts);
  }

  /** `ctr task ls` as {id: {pid, status}}. */
  async tasks() {
    const r = await this.ctr(['task', 'ls'], { timeoutMs: 10000 });
    const res = {};
    for (const l of r.stdout.split('\n').slice(1)) {
      const [id, pid, status] = l.trim().split(/\s+/);
      if (id) res[id] = { pid: Number(pid), status };
    }
    return res;
  }

  async waitTaskStatus(id, status, timeoutMs = 10000) {
    const deadline = Date.now() + timeoutMs;
    let last;
    for (;;) {
      last = (await this.tasks())[id];
      if (last && last.status === status) return last;
      if (Date.now() > deadline) throw new Error(`task ${id} did not reach ${status} (last: ${JSON.stringify(last)})`);
      await sleep(50);
    }
  }

  /**
   * Remove a container whatever state it is in: resume (a frozen task cannot
   * die), kill everything, delete the task, delete the container. Errors are
   * expected (already gone) and ignored; each step is bounded.
   */
  async removeContainer(id) {
    const t = { timeoutMs: 15000 };
    const task = (await this.tasks())[id];
    if (task) {
      if (task.status === 'PAUSED') await this.ctr(['task', 'resume', id], t);
      if (task.status !== 'STOPPED') {
        await this.ctr(['task', 'kill', '--all', '--signal', 'SIGKILL', id], t);
        await this.waitTaskStatus(id, 'STOPPED', 5000).catch(() => {});
      }
      await this.ctr(['task', 'delete', '--force', id], t);
    }
    await this.ctr(['container', 'delete', id], t);
  }

  /** Shims whose argv names our containerd socket: [{pid, namespace, id}]. */
  ourShims() {
    const res = [];
    for (const pid of allPids()) {
      const argv = readCmdline(pid);
      if (!argv || !argv.length || !/containerd-shim/.test(argv.join(' '))) continue;
      const i = argv.indexOf('-address');
      if (i < 0 || argv[i + 1] !== this.address) continue;
      const ns = argv[argv.indexOf('-namespace') + 1];
      const idx = argv.indexOf('-id');
      res.push({ pid, namespace: ns, id: idx >= 0 ? argv[idx + 1] : undefined });
    }
    return res;
  }

  /** Live, non-zombie processes in our cgroup parent or rooted in a registered rootfs. */
  ourContainerProcesses() {
    return processesInScope(this.cgroupParent, this.rootfsDirs);
  }

  /** The shim socket containerd 1.6 derives for a task: /run/containerd/s/sha256(address/ns/id). */
  shimSocket(ns, id) {
    const h = crypto.createHash('sha256').update(path.join(this.address, ns, id)).digest('hex');
    return path.join(CONTAINERD_RUN, 's', h);
  }

  /**
   * Tear down everything; returns a list of problems (empty when clean).
   * Idempotent; safe after a failed start. Order matters: containers are
   * removed through containerd while it still runs (the clean path), then
   * containerd, then whatever survived is removed by force.
   */
  async stop() {
    if (this.stopped) return [];
    this.stopped = true;
    const problems = [];
    // Guard rails against a corrupted harness object turning cleanup loose.
    if (!TMP_RE.test(path.basename(this.tmp)) || path.dirname(this.tmp) !== os.tmpdir()) {
      return [`refusing to clean up unexpected temp dir ${this.tmp}`];
    }
    if (!NAME_RE.test(this.cgroupParent.slice(1)) || !NAME_RE.test(this.namespace)) {
      return [`refusing to clean up unexpected names ${this.cgroupParent} ${this.namespace}`];
    }

    // Shim sockets to remove later: from task bundles (address files) and live shims.
    const sockets = new Set();
    const nsDir = path.join(this.state, 'io.containerd.runtime.v2.task', this.namespace);
    for (const id of fs.existsSync(nsDir) ? fs.readdirSync(nsDir) : []) sockets.add(this.shimSocket(this.namespace, id));
    for (const s of this.ourShims()) if (s.id) sockets.add(this.shimSocket(s.namespace, s.id));

    // 1. The clean path, while containerd runs.
    if (this.pid && !this.exited) {
      try {
        const t = { timeoutMs: 15000 };
        const ids = new Set(Object.keys(await this.tasks()));
        const cl = await this.ctr(['container', 'ls', '-q'], t);
        for (const id of cl.stdout.split('\n').map((s) => s.trim()).filter(Boolean)) ids.add(id);
        for (const id of ids) await this.removeContainer(id);
        const left = await this.ctr(['container', 'ls', '-q'], t);
        if (left.stdout.trim()) problems.push(`containers not deletable through containerd: ${left.stdout.trim().split('\n').join(' ')}`);
        await this.ctr(['namespaces', 'remove', this.namespace], t);
      } catch (e) {
        problems.push(`clean removal failed: ${e.message}`);
      }
    }

    // 2. containerd itself, by PID: SIGTERM, then SIGKILL.
    if (this.pid && !this.exited) {
      try {
        process.kill(this.pid, 'SIGTERM');
      } catch {
        /* gone */
      }
      const deadline = Date.now() + 5000;
      while (!this.exited && pidAlive(this.pid) && Date.now() < deadline) await sleep(50);
      if (!this.exited && pidAlive(this.pid)) {
        problems.push('containerd ignored SIGTERM; killed');
        try {
          process.kill(this.pid, 'SIGKILL');
        } catch {
          /* gone */
        }
        while (pidAlive(this.pid) && Date.now() < deadline + 5000) await sleep(50);
      }
    }

    // 3. Shims that outlived their tasks (a clean run leaves none): by PID.
    const shims = this.ourShims();
    if (shims.length) problems.push(`shims left running: ${shims.map((s) => `${s.pid}(${s.id})`).join(' ')}`);
    for (const s of shims) {
      try {
        process.kill(s.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }

    // 4. Container processes: thaw our frozen cgroups, then SIGKILL by PID.
    thawCgroups(this.cgroupParent);
    const ours = () => this.ourContainerProcesses().concat(shims.map((s) => s.pid).filter(pidAlive));
    const found = ours();
    if (found.length) problems.push(`container processes left: ${found.join(' ')}`);
    const alive = killUntilGone(ours);
    if (alive.length) problems.push(`processes still alive: ${alive.join(' ')}`);

    // 5. Mounts under our temp dir, deepest first (lazy: a busy mount must not block cleanup).
    const m0 = mountsUnder(this.tmp);
    if (m0.length) problems.push(`mounts left: ${m0.join(' ')}`);
    const stillMounted = unmountUnder(this.tmp);
    if (stillMounted.length) problems.push(`cannot unmount: ${stillMounted.join(' ')}`);

    // 6. Our cgroup parent in every hierarchy, leaves first. The parent itself is
    //    expected to remain (runtimes remove only their leaves); leaves are not.
    const dirs = cgroupDirsOf(this.cgroupParent)
      .map((c) => c.dir)
      .sort((a, b) => b.length - a.length);
    const leaves = dirs.filter((d) => path.basename(d) !== this.cgroupParent.slice(1));
    if (leaves.length) {
      const names = [...new Set(leaves.map((d) => path.relative(this.cgroupParent, d.slice(d.indexOf(this.cgroupParent)))))];
      problems.push(`container cgroups left under ${this.cgroupParent}: ${names.join(' ')}`);
    }
    for (const dir of dirs) {
      const problem = removeCgroupDir(dir);
      if (problem) problems.push(problem);
    }

    // 7. What containerd 1.6 put in /run/containerd for us, by exact name.
    for (const s of sockets) {
      if (fs.existsSync(s)) {
        problems.push(`shim socket left: ${s}`);
        fs.rmSync(s, { force: true });
      }
    }
    const nsRuncRoot = path.join(CONTAINERD_RUN, 'runc', this.namespace);
    if (fs.existsSync(nsRuncRoot)) {
      const entries = containerEntries(nsRuncRoot);
      if (entries.length) problems.push(`runtime state left in ${nsRuncRoot}: ${entries.join(' ')}`);
      fs.rmSync(nsRuncRoot, { recursive: true, force: true });
    }
    for (const p of [path.join(CONTAINERD_RUN, 's'), path.join(CONTAINERD_RUN, 'runc'), CONTAINERD_RUN]) {
      if (this.preexisting[p]) continue;
      try {
        fs.rmdirSync(p); // only if empty: another harness may be using it right now
      } catch {
        /* absent, or in use by someone else */
      }
    }

    // 8. The temp dir, unless something is still mounted there (rm -r through a
    //    bind mount could delete files that are not ours).
    const ctrRoot = path.join(this.runcRoot, this.namespace);
    if (fs.existsSync(ctrRoot) && containerEntries(ctrRoot).length) {
      problems.push(`runtime state left in ${ctrRoot}: ${containerEntries(ctrRoot).join(' ')}`);
    }
    if (!stillMounted.length) {
      try {
        fs.rmSync(this.tmp, { recursive: true, force: true });
      } catch (e) {
        problems.push(`cannot remove ${this.tmp}: ${e.message}`);
      }
    } else {
      problems.push(`kept ${this.tmp} because of mounts`);
    }
    return problems;
  }
}

/**
 * What a runtime root holds for containers: not tsrun's compiled seccomp programs,
 * kept there for later containers (src/lifecycle/seccomp-cache.ts).
 */
function containerEntries(runtimeRoot) {
  return fs.readdirSync(runtimeRoot).filter((e) => e !== '~seccomp-cache');
}

/**
 * Leftovers of any harness on this machine (for CI and for checking by hand):
 * containerd/shim processes naming a tsrun-e2e temp dir, mounts under
 * /tmp/tsrun-e2e-* or /run/containerd, cgroups named tsrun-e2e-*, temp dirs,
 * and /run/containerd state.
 */
function globalLeftovers() {
  const out = [];
  const tmpPrefix = path.join(os.tmpdir(), 'tsrun-e2e-');
  for (const pid of allPids()) {
    if (pid === process.pid || !pidAlive(pid)) continue;
    const argv = readCmdline(pid);
    if (!argv) continue;
    const s = argv.join(' ');
    if (/containerd/.test(s) && (s.includes(tmpPrefix) || /-namespace tsrun-e2e-/.test(s))) out.push(`process ${pid}: ${s}`);
  }
  for (const m of hostMounts()) {
    if (m.mountPoint.startsWith(tmpPrefix) || m.mountPoint.startsWith(CONTAINERD_RUN + '/')) out.push(`mount ${m.mountPoint}`);
  }
  for (const h of cgroupHierarchies()) {
    let entries = [];
    try {
      entries = fs.readdirSync(h);
    } catch {
      /* unreadable */
    }
    for (const e of entries) if (e.startsWith('tsrun-e2e-')) out.push(`cgroup ${path.join(h, e)}`);
  }
  for (const e of fs.readdirSync(os.tmpdir())) if (e.startsWith('tsrun-e2e-')) out.push(`temp dir ${path.join(os.tmpdir(), e)}`);
  for (const p of [path.join(CONTAINERD_RUN, 'runc'), path.join(CONTAINERD_RUN, 's')]) {
    if (!fs.existsSync(p)) continue;
    for (const e of fs.readdirSync(p)) if (p.endsWith('/s') || e.startsWith('tsrun-e2e-')) out.push(`${path.join(p, e)}`);
  }
  return out;
}

module.exports = { Harness, skipReason, which, shq, runCmd, writeRuntimeWrapper, readArgvLog, globalLeftovers, cgroupHierarchies };

if (require.main === module) {
  const cmd = process.argv[2];
  if (cmd === 'check') {
    const l = globalLeftovers();
    for (const x of l) console.log(x);
    if (!l.length) console.log('no leftovers');
    process.exit(l.length ? 1 : 0);
  } else if (cmd === 'clean') {
    // Tear down harnesses whose owning process is gone (a killed test run).
    (async () => {
      let bad = 0;
      for (const e of fs.readdirSync(os.tmpdir())) {
        const tmp = path.join(os.tmpdir(), e);
        if (!TMP_RE.test(e) || !fs.existsSync(path.join(tmp, 'harness.json'))) continue;
        const rec = JSON.parse(fs.readFileSync(path.join(tmp, 'harness.json'), 'utf8'));
        if (pidAlive(rec.ownerPid)) {
          console.log(`${tmp}: owner ${rec.ownerPid} still running; left alone`);
          continue;
        }
        const problems = await Harness.adopt(tmp).stop();
        console.log(`${tmp}: cleaned${problems.length ? `; found: ${problems.join('; ')}` : ''}`);
        if (fs.existsSync(tmp)) bad++;
      }
      process.exit(bad ? 1 : 0);
    })();
  } else if (cmd === 'shell') {
    (async () => {
      const h = await Harness.start({ label: 'shell' });
      console.log(`containerd ${h.pid} running; try:\n  ctr --address ${h.address} -n ${h.namespace} version`);
      console.log(`cgroup parent for --cgroup: ${h.cgroupParent}/<id>   fifo dir: ${h.fifoDir}   runc root: ${h.runcRoot}`);
      console.log('Ctrl-C tears it down.');
      const stop = async () => {
        const p = await h.stop();
        console.log(p.length ? `teardown problems:\n  ${p.join('\n  ')}` : 'torn down');
        process.exit(p.length ? 1 : 0);
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    })().catch((e) => {
      console.error(e.message);
      process.exit(1);
    });
  } else {
    console.error('usage: harness.js check | clean | shell');
    process.exit(2);
  }
}
