#!/usr/bin/env node
'use strict';
// tsrun benchmark harness: times tsrun against runc, pairwise, on a busybox
// bundle. Plain CommonJS, no dependencies. See bench/README.md.
//
//   node bench/run.js [--tsrun PATH] [--runc PATH] [--rounds N] [--quick]
//                     [--growth-rounds N] [--list-counts 10,100,1000]
//                     [--parallel N] [--only run,state,...] [--out FILE]

const cp = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

// ---------------------------------------------------------------- options --

const REPO = path.resolve(__dirname, '..');
const SCENARIOS = ['run', 'state', 'exec', 'cycle', 'memory', 'growth', 'list', 'parallel', 'containerd'];

function parseArgs(argv) {
  const o = {
    tsrun: path.join(REPO, 'bin', 'tsrun'),
    runc: '/usr/sbin/runc',
    rounds: 30,
    growthRounds: 10,
    memRounds: 5,
    listCounts: [10, 100, 1000],
    parallel: 50,
    parallelRounds: 3,
    quick: false,
    only: null,
    out: path.join(__dirname, 'results', 'latest.md'),
    warmup: 2,
  };
  const explicit = new Set();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) die(`${a} needs a value`);
      return argv[++i];
    };
    const int = () => {
      const n = Number(val());
      if (!Number.isInteger(n) || n < 0) die(`${a} needs a non-negative integer`);
      return n;
    };
    switch (a) {
      case '--tsrun': o.tsrun = path.resolve(val()); break;
      case '--runc': o.runc = path.resolve(val()); break;
      case '--rounds': o.rounds = int(); explicit.add('rounds'); break;
      case '--growth-rounds': o.growthRounds = int(); explicit.add('growthRounds'); break;
      case '--mem-rounds': o.memRounds = int(); explicit.add('memRounds'); break;
      case '--parallel': o.parallel = int(); break;
      case '--parallel-rounds': o.parallelRounds = int(); explicit.add('parallelRounds'); break;
      case '--warmup': o.warmup = int(); break;
      case '--list-counts':
        o.listCounts = val().split(',').map(Number);
        if (o.listCounts.some((n) => !Number.isInteger(n) || n < 1)) die('--list-counts: e.g. 10,100,1000');
        break;
      case '--only':
        o.only = val().split(',');
        for (const s of o.only) if (!SCENARIOS.includes(s)) die(`--only: unknown scenario ${s} (${SCENARIOS.join(', ')})`);
        break;
      case '--quick': o.quick = true; break;
      case '--out': o.out = path.resolve(val()); break;
      case '-h': case '--help':
        process.stdout.write(fs.readFileSync(__filename, 'utf8').split('\n').slice(1, 9).join('\n').replace(/^\/\/ ?/gm, '') + '\n');
        process.exit(0);
        break;
      default: die(`unknown argument ${a}`);
    }
  }
  if (o.quick) {
    if (!explicit.has('rounds')) o.rounds = 5;
    if (!explicit.has('memRounds')) o.memRounds = 2;
    o.warmup = Math.min(o.warmup, 1);
    if (!o.only) o.only = ['run', 'state', 'exec', 'cycle', 'memory', 'containerd'];
  }
  if (!o.only) o.only = SCENARIOS.slice();
  if (o.rounds < 1) die('--rounds must be at least 1');
  return o;
}

function die(msg) {
  process.stderr.write(`bench: ${msg}\n`);
  process.exit(2);
}

const opt = parseArgs(process.argv.slice(2));

// Every spawned process runs without NODE_EXTRA_CA_CERTS (callers such as
// containerd do not set it, and it alone adds ~40 ms to every Node start).
const ENV = { ...process.env };
delete ENV.NODE_EXTRA_CA_CERTS;

const PARENT = `tsrun-bench-${process.pid}`; // cgroup parent, absolute: /PARENT/<id>
const CGROUP_FS = '/sys/fs/cgroup';
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-bench-'));
const ROOTFS = path.join(TMP, 'rootfs');
const BUNDLES = path.join(TMP, 'bundles');
const IO = path.join(TMP, 'io');
const NCPU = os.cpus().length;

const runtimes = [
  { name: 'tsrun', bin: opt.tsrun, root: path.join(TMP, 'state-tsrun'), ids: new Set() },
  { name: 'runc', bin: opt.runc, root: path.join(TMP, 'state-runc'), ids: new Set() },
];
const [TS, RC] = runtimes;

// ----------------------------------------------------------------- spawning --

let ioSeq = 0;

// Run one command synchronously and time it with hrtime around spawnSync.
// stdout/stderr go to files, not pipes: `create` and `run -d` hand their stdio
// to the container, which would hold a pipe open (and spawnSync with it).
function exec(bin, args, { timeout = 120000 } = {}) {
  const n = ioSeq++ % 4;
  const outPath = path.join(IO, `out${n}`);
  const errPath = path.join(IO, `err${n}`);
  const outFd = fs.openSync(outPath, 'w');
  const errFd = fs.openSync(errPath, 'w');
  let r, t0, t1;
  try {
    t0 = process.hrtime.bigint();
    r = cp.spawnSync(bin, args, { stdio: ['ignore', outFd, errFd], env: ENV, timeout });
    t1 = process.hrtime.bigint();
  } finally {
    fs.closeSync(outFd);
    fs.closeSync(errFd);
  }
  return {
    ms: Number(t1 - t0) / 1e6,
    status: r.status,
    signal: r.signal,
    error: r.error,
    stdout: fs.readFileSync(outPath, 'utf8'),
    stderr: fs.readFileSync(errPath, 'utf8'),
    cmd: [bin, ...args].join(' '),
  };
}

function rt$(rt, args, o) {
  return exec(rt.bin, ['--root', rt.root, ...args], o);
}

// The informative part of a failed command's stderr: a Node crash ends with
// "Node.js vX", so prefer the error line(s) over the last line.
function errSummary(text) {
  const lines = (text || '').split('\n').map((l) => l.trim()).filter(Boolean);
  const e = lines.findIndex((l) => /^(\w*Error|Error)\b|^[A-Z]\w+Error:|error:/.test(l));
  const pick = e >= 0 ? lines.slice(e, e + 2) : lines.slice(-3);
  return pick.join(' | ').slice(0, 400);
}

// Full stderr of every failed command goes to <out dir>/failures.log.
let failuresLogged = 0;
function logFailure(what, cmd, status, stderr) {
  try {
    const f = path.join(path.dirname(opt.out), 'failures.log');
    fs.mkdirSync(path.dirname(f), { recursive: true });
    if (failuresLogged++ === 0) fs.writeFileSync(f, '');
    fs.appendFileSync(f, `=== ${new Date().toISOString()} ${what} (exit ${status})\n$ ${cmd}\n${stderr}\n`);
  } catch {}
}

function check(r, what) {
  if (r.status !== 0) {
    logFailure(what, r.cmd, r.status, r.stderr + (r.stdout ? `\n[stdout]\n${r.stdout}` : ''));
    const why = r.error ? r.error.message : r.signal ? `signal ${r.signal}` : `exit ${r.status}`;
    const err = errSummary(r.stderr || r.stdout);
    throw new Error(`${what}: ${why}: ${err}`.slice(0, 400));
  }
  return r;
}

// Async spawn (for the parallel scenario and for uncounted setup/teardown).
function spawnAsync(bin, args) {
  return new Promise((resolve) => {
    const errPath = path.join(IO, `async-${ioSeq++}`);
    const errFd = fs.openSync(errPath, 'w');
    const c = cp.spawn(bin, args, { stdio: ['ignore', 'ignore', errFd], env: ENV });
    fs.closeSync(errFd);
    const done = (status, signal, error) => {
      let stderr = '';
      try { stderr = fs.readFileSync(errPath, 'utf8'); fs.unlinkSync(errPath); } catch {}
      resolve({ status, signal, error, stderr, end: process.hrtime.bigint() });
    };
    c.on('error', (e) => done(null, null, e));
    c.on('exit', (code, sig) => done(code, sig, null));
  });
}

async function pool(items, width, fn) {
  let next = 0;
  const results = new Array(items.length);
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
  return results;
}

function sleepMs(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

// ------------------------------------------------------------------ bundle --

let baseConfig;
let idSeq = 0;
const newId = (tag, rt) => `b${process.pid}-${tag}-${rt.name}-${idSeq++}`;

function buildRootfs() {
  for (const d of ['bin', 'proc', 'dev', 'sys', 'tmp', 'mnt']) fs.mkdirSync(path.join(ROOTFS, d), { recursive: true });
  fs.copyFileSync('/usr/bin/busybox', path.join(ROOTFS, 'bin', 'busybox'));
  fs.chmodSync(path.join(ROOTFS, 'bin', 'busybox'), 0o755);
  for (const l of ['sh', 'true', 'sleep']) fs.symlinkSync('busybox', path.join(ROOTFS, 'bin', l));
  // Mount points for the 500-mount growth config, made in advance so neither
  // runtime pays for mkdir (the root is read-only in the default spec).
  for (let i = 0; i < 500; i++) fs.mkdirSync(path.join(ROOTFS, 'mnt', `m${i}`));
}

function loadBaseConfig() {
  const dir = path.join(TMP, 'spec');
  fs.mkdirSync(dir);
  check(exec(opt.runc, ['spec', '--bundle', dir]), `${opt.runc} spec`);
  const c = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
  c.process.terminal = false;
  return c;
}

// Each container gets its own bundle dir (config.json only) pointing at the
// shared rootfs by absolute path, and its own cgroup /PARENT/<id>.
function makeBundle(id, args, tweak) {
  const c = JSON.parse(JSON.stringify(baseConfig));
  c.process.args = args;
  c.root.path = ROOTFS;
  c.linux.cgroupsPath = `/${PARENT}/${id}`;
  if (tweak) tweak(c);
  const dir = path.join(BUNDLES, id);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(c, null, 2));
  return dir;
}

const tweaks = {
  mounts500(c) {
    for (let i = 0; i < 500; i++) {
      c.mounts.push({ destination: `/mnt/m${i}`, type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'noexec', 'size=64k'] });
    }
  },
  env1000(c) {
    for (let i = 0; i < 1000; i++) c.process.env.push(`BENCH_VAR_${i}=value-${i}-${'x'.repeat(16)}`);
  },
  // 300 rules that never match: default allow; each rule returns EPERM only
  // for a magic first argument nobody passes.
  seccomp300(c) {
    const names = ['personality', 'kcmp', 'syslog', 'acct', 'swapon', 'swapoff', 'quotactl', 'lookup_dcookie',
      'perf_event_open', 'fanotify_init', 'name_to_handle_at', 'open_by_handle_at', 'kexec_load', 'iopl',
      'ioperm', 'vhangup', 'sysfs', 'ustat', 'uselib', 'userfaultfd', 'bpf', 'add_key', 'request_key',
      'keyctl', 'mbind', 'set_mempolicy', 'move_pages', 'migrate_pages', 'get_mempolicy', 'unshare'];
    const syscalls = [];
    for (let i = 0; i < 300; i++) {
      syscalls.push({
        names: [names[i % names.length]],
        action: 'SCMP_ACT_ERRNO',
        errnoRet: 1,
        args: [{ index: 0, value: 0x7e570000 + i, op: 'SCMP_CMP_EQ' }],
      });
    }
    c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'], syscalls };
  },
  // The profile every Docker container gets (the test suite's copy of it, built with the project).
  dockerSeccomp(c) {
    c.linux.seccomp = require(path.join(REPO, 'dist', 'test', 'helpers', 'docker-seccomp.js')).dockerDefaultProfile();
  },
};

// ----------------------------------------------------------------- cleanup --

function stateDirs(rt) {
  try {
    return fs.readdirSync(rt.root, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
  } catch { return []; }
}

// Force-delete every container a runtime may still know about (tracked ids
// plus whatever is left in its --root).
function deleteAllSync(rt) {
  const ids = new Set([...rt.ids, ...stateDirs(rt)]);
  for (const id of ids) {
    try { rt$(rt, ['delete', '--force', id], { timeout: 30000 }); } catch {}
  }
  rt.ids.clear();
}

async function deleteAllAsync(rt, width = 4) {
  const ids = [...new Set([...rt.ids, ...stateDirs(rt)])];
  await pool(ids, width, (id) => spawnAsync(rt.bin, ['--root', rt.root, 'delete', '--force', id]));
  rt.ids.clear();
}

// Our cgroup parent in every hierarchy (deduplicated: cpu,cpuacct may be one).
function parentCgroups() {
  const out = [];
  const seen = new Set();
  let hier = [];
  try { hier = fs.readdirSync(CGROUP_FS); } catch {}
  for (const h of hier) {
    const p = path.join(CGROUP_FS, h, PARENT);
    let real;
    try { real = fs.realpathSync(p); } catch { continue; }
    if (seen.has(real)) continue;
    seen.add(real);
    out.push(real);
  }
  return out;
}

function cgroupDirsBottomUp(dir) {
  const out = [];
  const walk = (d) => {
    let ents = [];
    try { ents = fs.readdirSync(d, { withFileTypes: true }); } catch { return; }
    for (const e of ents) if (e.isDirectory()) walk(path.join(d, e.name));
    out.push(d);
  };
  walk(dir);
  return out;
}

// Remove /PARENT (leaves first) in every hierarchy. Only ever rmdir, only
// under our own parent. Processes still inside are our containers' processes:
// they are killed by pid first.
function removeCgroups() {
  const parents = parentCgroups();
  if (!parents.length) return [];
  const pids = new Set();
  for (const p of parents) {
    for (const d of cgroupDirsBottomUp(p)) {
      try {
        for (const s of fs.readFileSync(path.join(d, 'cgroup.procs'), 'utf8').split('\n')) if (s.trim()) pids.add(Number(s));
      } catch {}
    }
  }
  for (const pid of pids) { try { process.kill(pid, 'SIGKILL'); } catch {} }
  const left = [];
  for (let attempt = 0; attempt < 50; attempt++) {
    left.length = 0;
    for (const p of parents) {
      for (const d of cgroupDirsBottomUp(p)) {
        try { fs.rmdirSync(d); } catch (e) { if (e.code !== 'ENOENT') left.push(d); }
      }
    }
    if (!left.length) break;
    sleepMs(20);
  }
  return left;
}

function cleanupScenario() {
  for (const rt of runtimes) deleteAllSync(rt);
  const left = removeCgroups();
  if (left.length) process.stderr.write(`bench: warning: could not remove cgroups: ${left.join(', ')}\n`);
  try { fs.rmSync(BUNDLES, { recursive: true, force: true }); fs.mkdirSync(BUNDLES); } catch {}
}

let finalDone = false;
function finalCleanup() {
  if (finalDone) return;
  finalDone = true;
  try { for (const rt of runtimes) deleteAllSync(rt); } catch {}
  try {
    const left = removeCgroups();
    if (left.length) process.stderr.write(`bench: warning: could not remove cgroups: ${left.join(', ')}\n`);
  } catch {}
  try { fs.rmSync(TMP, { recursive: true, force: true }); } catch {}
}
process.on('exit', finalCleanup);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => process.exit(130));

// --------------------------------------------------------------- statistics --

function median(xs) {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

// Measure A and B in turn for `rounds` rounds (plus uncounted warmups).
// The order alternates between rounds (A B, B A, A B, ...) so neither side
// always runs first. Returns the series and the pairwise ratios A/B.
function pairwise(rounds, warmup, fa, fb) {
  const a = [];
  const b = [];
  for (let i = -warmup; i < rounds; i++) {
    let x, y;
    if ((i & 1) === 0) { x = fa(i); y = fb(i); } else { y = fb(i); x = fa(i); }
    if (i >= 0) { a.push(x); b.push(y); }
  }
  const ratios = a.map((x, i) => x / b[i]);
  return { a, b, ratios, ma: median(a), mb: median(b), mr: median(ratios) };
}

// What each side's time depends on: which command ran just before it. With the order
// flipping every round (A B, B A, A B, ...), in even rounds A follows the previous
// round's A and B follows A; in odd rounds B follows the previous round's B and A
// follows B. runc runs faster right after itself (presumably its code still in the
// CPU's caches) than after anything else (a tsrun, a `node -e 0`, an idle spell); a
// caller that uses one runtime sees "each after itself".
function orderNote(name, p) {
  const even = (_, i) => i % 2 === 0;
  const odd = (_, i) => i % 2 === 1;
  const m = (xs) => fmt(median(xs), 'ms');
  const tsAfterTs = p.a.filter(even), rcAfterTs = p.b.filter(even);
  const rcAfterRc = p.b.filter(odd), tsAfterRc = p.a.filter(odd);
  if (!tsAfterTs.length || !rcAfterRc.length) return;
  notes.push(`${name}, by what ran just before: tsrun ${m(tsAfterTs)} after tsrun, ${m(tsAfterRc)} after runc; ` +
    `runc ${m(rcAfterRc)} after runc, ${m(rcAfterTs)} after tsrun. Each after itself (one runtime in use): ` +
    `${fmtRatio(median(tsAfterTs) / median(rcAfterRc))}; each after the other: ${fmtRatio(median(tsAfterRc) / median(rcAfterTs))}.`);
}

// ----------------------------------------------------------------- results --

const rows = []; // { scenario, tsrun, runc, ratio, unit, target, note }
const details = []; // { series, values, unit }
const notes = [];

const fmt = (v, unit) => (v == null || Number.isNaN(v) ? '—' : `${v.toFixed(unit === 'MiB' ? 2 : 1)} ${unit}`);
const fmtRatio = (r) => (r == null || Number.isNaN(r) ? '—' : `${r.toFixed(2)}x`);

function addRow(r) { rows.push(r); }
function addDetail(series, values, unit) { details.push({ series, values, unit }); }

function progress(msg) { process.stderr.write(`bench: ${msg}\n`); }

// --------------------------------------------------------------- scenarios --

const TRUE = ['/bin/true'];
const SLEEP = ['/bin/sleep', '100000'];
let runBase = null; // medians of scenario 1, the baseline for the growth rows

function timedRun(rt, tag, tweak) {
  const id = newId(tag, rt);
  const b = makeBundle(id, TRUE, tweak);
  rt.ids.add(id);
  const r = check(rt$(rt, ['run', '--bundle', b, id]), `${rt.name} run`);
  rt.ids.delete(id);
  return r.ms;
}

// 1. `run` of /bin/true: create, start, wait, delete in one command.
function scRun() {
  const p = pairwise(opt.rounds, opt.warmup, () => timedRun(TS, 'run', null), () => timedRun(RC, 'run', null));
  runBase = p;
  addRow({ scenario: '`run` /bin/true', tsrun: p.ma, runc: p.mb, ratio: p.mr, unit: 'ms', target: '≤ 1.25x', note: `n=${opt.rounds}` });
  addDetail('run: tsrun', p.a, 'ms');
  addDetail('run: runc', p.b, 'ms');
  orderNote('`run`', p);
}

function createContainer(rt, tag, args, extra = []) {
  const id = newId(tag, rt);
  const b = makeBundle(id, args);
  rt.ids.add(id);
  const r = check(rt$(rt, ['create', '--bundle', b, ...extra, id]), `${rt.name} create`);
  return { id, ms: r.ms, bundle: b };
}

function stateOf(rt, id) {
  const r = check(rt$(rt, ['state', id]), `${rt.name} state`);
  let s;
  try { s = JSON.parse(r.stdout); } catch { throw new Error(`${rt.name} state: not JSON: ${r.stdout.slice(0, 200)}`); }
  return { ms: r.ms, state: s };
}

// 2. `state` of a created container, vs a bare `node -e 0` (Node's boot is
//    tsrun's floor), with runc's state for reference.
function scState() {
  const ct = createContainer(TS, 'state', TRUE);
  const cr = createContainer(RC, 'state', TRUE);
  for (const [rt, c] of [[TS, ct], [RC, cr]]) {
    const s = stateOf(rt, c.id).state;
    if (s.status !== 'created') throw new Error(`${rt.name} state: status ${s.status}, want created`);
  }
  const node = () => check(exec(process.execPath, ['-e', '0']), 'node -e 0').ms;
  const tsState = () => stateOf(TS, ct.id).ms;
  const rcState = () => stateOf(RC, cr.id).ms;
  // Triples in rotating order: (ts, node, runc), (node, runc, ts), ...
  const t = [], n = [], r = [];
  const fns = [[tsState, t], [node, n], [rcState, r]];
  for (let i = -opt.warmup; i < opt.rounds; i++) {
    const k = ((i % 3) + 3) % 3;
    const vals = [];
    for (let j = 0; j < 3; j++) {
      const [fn, arr] = fns[(k + j) % 3];
      vals.push([arr, fn()]);
    }
    if (i >= 0) for (const [arr, v] of vals) arr.push(v);
  }
  const rNode = median(t.map((x, i) => x / n[i]));
  const rRunc = median(t.map((x, i) => x / r[i]));
  addRow({ scenario: '`state` (created container)', tsrun: median(t), runc: median(r), ratio: rRunc, unit: 'ms', target: '', note: `n=${opt.rounds}` });
  addRow({
    scenario: '`state` vs bare `node -e 0`', tsrun: median(t), runc: null, ratio: rNode, unit: 'ms', target: '≤ 1.5x node',
    note: `ratio = tsrun state / node -e 0; node -e 0 median ${fmt(median(n), 'ms')}`,
  });
  addDetail('state: tsrun', t, 'ms');
  addDetail('state: runc', r, 'ms');
  addDetail('node -e 0', n, 'ms');
}

// 2b. `exec` of /bin/true into a running container (docker exec, kubectl exec):
//     join its namespaces and cgroup, run, wait for the exit. Again into containers
//     with Docker's seccomp profile, which every exec'd process gets too (compiled
//     again, or taken from the runtime's cache).
function scExec() {
  const plain = execInto(undefined);
  addRow({ scenario: '`exec` /bin/true into a running container', tsrun: plain.ma, runc: plain.mb, ratio: plain.mr, unit: 'ms', target: 'report', note: `n=${opt.rounds}` });
  addDetail('exec: tsrun', plain.a, 'ms');
  addDetail('exec: runc', plain.b, 'ms');
  orderNote('`exec`', plain);
  const scenario = "`exec` /bin/true, Docker's seccomp profile";
  const skip = seccompSkipNote();
  if (skip) {
    addRow({ scenario, tsrun: null, runc: null, ratio: null, unit: 'ms', target: 'report', note: skip });
    return;
  }
  const docker = execInto(tweaks.dockerSeccomp);
  addRow({ scenario, tsrun: docker.ma, runc: docker.mb, ratio: docker.mr, unit: 'ms', target: 'report', note: `n=${opt.rounds}` });
  addDetail('exec + Docker seccomp: tsrun', docker.a, 'ms');
  addDetail('exec + Docker seccomp: runc', docker.b, 'ms');
}

/** Pairwise `exec` timings into one running container per runtime, made with `tweak`. */
function execInto(tweak) {
  const started = {};
  for (const rt of [TS, RC]) {
    const id = newId('exec', rt);
    const b = makeBundle(id, SLEEP, tweak);
    rt.ids.add(id);
    check(rt$(rt, ['run', '-d', '--bundle', b, id]), `${rt.name} run -d`);
    started[rt.name] = id;
  }
  const timed = (rt) => () => check(rt$(rt, ['exec', started[rt.name], '/bin/true']), `${rt.name} exec`).ms;
  return pairwise(opt.rounds, opt.warmup, timed(TS), timed(RC));
}

// Wait (uncounted) until the container's init has exited, then until the
// runtime's own `state` says stopped.
function waitStopped(rt, id, pid) {
  const deadline = Date.now() + 20000;
  if (pid) {
    while (Date.now() < deadline) {
      let st;
      try { st = fs.readFileSync(`/proc/${pid}/stat`, 'utf8'); } catch { break; }
      const state = st.slice(st.lastIndexOf(')') + 2, st.lastIndexOf(')') + 3);
      if (state === 'Z' || state === 'X') break;
      sleepMs(1);
    }
  }
  while (Date.now() < deadline) {
    if (stateOf(rt, id).state.status === 'stopped') return;
    sleepMs(2);
  }
  throw new Error(`${rt.name}: container ${id} did not stop`);
}

// containerd passes --log/--log-format json; use them if the runtime takes them.
const logFlags = new Map();
function probeLogFlags(rt) {
  if (logFlags.has(rt)) return logFlags.get(rt);
  const id = newId('probe', rt);
  const b = makeBundle(id, TRUE);
  rt.ids.add(id);
  const r = exec(rt.bin, ['--root', rt.root, '--log', path.join(b, 'log.json'), '--log-format', 'json', 'create', '--bundle', b, id]);
  deleteAllSync(rt);
  const ok = r.status === 0;
  if (!ok) notes.push(`${rt.name} rejected \`--log FILE --log-format json\` (${r.stderr.trim().split('\n').pop()}); the create/start/delete cycle ran without them.`);
  logFlags.set(rt, ok);
  return ok;
}

// 3. create + start + delete as containerd issues them (three processes).
function cycleOnce(rt) {
  const id = newId('cycle', rt);
  const b = makeBundle(id, TRUE);
  const g = logFlags.get(rt) ? ['--log', path.join(b, 'log.json'), '--log-format', 'json'] : [];
  const pidFile = path.join(b, 'init.pid');
  rt.ids.add(id);
  const c = check(exec(rt.bin, ['--root', rt.root, ...g, 'create', '--bundle', b, '--pid-file', pidFile, id]), `${rt.name} create`);
  const pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
  const s = check(exec(rt.bin, ['--root', rt.root, ...g, 'start', id]), `${rt.name} start`);
  waitStopped(rt, id, pid);
  const d = check(exec(rt.bin, ['--root', rt.root, ...g, 'delete', id]), `${rt.name} delete`);
  rt.ids.delete(id);
  return { create: c.ms, start: s.ms, delete: d.ms, total: c.ms + s.ms + d.ms };
}

function scCycle() {
  probeLogFlags(TS);
  probeLogFlags(RC);
  const parts = { tsrun: [], runc: [] };
  const p = pairwise(opt.rounds, opt.warmup,
    () => { const x = cycleOnce(TS); parts.tsrun.push(x); return x.total; },
    () => { const x = cycleOnce(RC); parts.runc.push(x); return x.total; });
  const cut = (arr) => arr.slice(arr.length - opt.rounds);
  const ts = cut(parts.tsrun), rc = cut(parts.runc);
  addRow({ scenario: 'create + start + delete (3 processes)', tsrun: p.ma, runc: p.mb, ratio: p.mr, unit: 'ms', target: 'report', note: `n=${opt.rounds}; wait for exit not counted` });
  for (const k of ['create', 'start', 'delete']) {
    const a = ts.map((x) => x[k]), b = rc.map((x) => x[k]);
    addRow({ scenario: `  ↳ ${k}`, tsrun: median(a), runc: median(b), ratio: median(a.map((x, i) => x / b[i])), unit: 'ms', target: '', note: '' });
  }
  addDetail('cycle: tsrun', p.a, 'ms');
  addDetail('cycle: runc', p.b, 'ms');
}

function smapsPrivate(pid) {
  const txt = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kb = (k) => { const m = txt.match(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm')); return m ? Number(m[1]) : 0; };
  return { priv: (kb('Private_Clean') + kb('Private_Dirty')) / 1024, rss: kb('Rss') / 1024 };
}

function procName(pid) {
  try { return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ').slice(0, 60); } catch { return '?'; }
}

// Processes in the container's cgroup (pids hierarchy, else the unified one).
function cgroupProcs(id) {
  for (const h of ['pids', 'memory', 'unified', 'systemd']) {
    try {
      return fs.readFileSync(path.join(CGROUP_FS, h, PARENT, id, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
    } catch {}
  }
  return null;
}

// 4. Memory of a created-but-not-started container.
function scMemory() {
  const res = { tsrun: [], runc: [] };
  const info = {};
  const one = (rt) => {
    const c = createContainer(rt, 'mem', TRUE);
    try {
      const pid = stateOf(rt, c.id).state.pid;
      if (!pid) throw new Error(`${rt.name} state: no pid`);
      const m = smapsPrivate(pid);
      const procs = cgroupProcs(c.id);
      let cgPriv = null;
      if (procs) cgPriv = procs.reduce((s, p) => { try { return s + smapsPrivate(p).priv; } catch { return s; } }, 0);
      info[rt.name] = { proc: procName(pid), rss: m.rss, nprocs: procs ? procs.length : null, cgPriv };
      return m.priv;
    } finally {
      check(rt$(rt, ['delete', '--force', c.id]), `${rt.name} delete --force`);
      rt.ids.delete(c.id);
    }
  };
  const p = pairwise(opt.memRounds, 0, () => one(TS), () => one(RC));
  const d = (n) => {
    const x = info[n];
    return `${n} init \`${x.proc}\` (Rss ${x.rss.toFixed(1)} MiB${x.nprocs != null ? `, ${x.nprocs} proc(s) in its cgroup, ${x.cgPriv.toFixed(2)} MiB private` : ''})`;
  };
  addRow({ scenario: 'created container: private memory', tsrun: p.ma, runc: p.mb, ratio: p.mr, unit: 'MiB', target: '≤ 2 MiB', note: `n=${opt.memRounds}; ${d('tsrun')}; ${d('runc')}` });
}

// Whether each runtime runs a container with a seccomp profile, probed once: true,
// or the reason it does not.
let seccompProbe;
function seccompOk() {
  if (!seccompProbe) {
    seccompProbe = {};
    for (const rt of runtimes) {
      const id = newId('probe', rt);
      const b = makeBundle(id, TRUE, tweaks.seccomp300);
      rt.ids.add(id);
      const r = rt$(rt, ['run', '--bundle', b, id]);
      deleteAllSync(rt);
      seccompProbe[rt.name] = r.status === 0 ? true : (r.stderr.trim().split('\n').pop() || `exit ${r.status}`);
    }
  }
  return seccompProbe;
}

/** The note of a seccomp scenario that cannot run here, or undefined when it can. */
function seccompSkipNote() {
  const ok = seccompOk();
  const bad = runtimes.filter((rt) => ok[rt.name] !== true);
  return bad.length ? `skipped: ${bad.map((rt) => `${rt.name}: ${ok[rt.name]}`).join('; ')}` : undefined;
}

// 5a. Cost growth of `run` with big configs.
function scGrowth() {
  const cases = [
    ['500 tmpfs mounts', [tweaks.mounts500]],
    ['1,000 env vars', [tweaks.env1000]],
    ['300 seccomp rules', [tweaks.seccomp300]],
    ['all three', [tweaks.mounts500, tweaks.env1000, tweaks.seccomp300]],
    ["Docker's default seccomp profile", [tweaks.dockerSeccomp]],
  ];
  for (const [name, tw] of cases) {
    const tweak = (c) => tw.forEach((f) => f(c));
    const needsSeccomp = tw.includes(tweaks.seccomp300) || tw.includes(tweaks.dockerSeccomp);
    const skip = needsSeccomp && seccompSkipNote();
    if (skip) {
      addRow({ scenario: `\`run\` + ${name}`, tsrun: null, runc: null, ratio: null, unit: 'ms', target: 'report', note: skip });
      continue;
    }
    const p = pairwise(opt.growthRounds, 1, () => timedRun(TS, 'grow', tweak), () => timedRun(RC, 'grow', tweak));
    let note = `n=${opt.growthRounds}`;
    if (runBase) note += `; over plain run: tsrun +${(p.ma - runBase.ma).toFixed(1)} ms, runc +${(p.mb - runBase.mb).toFixed(1)} ms`;
    addRow({ scenario: `\`run\` + ${name}`, tsrun: p.ma, runc: p.mb, ratio: p.mr, unit: 'ms', target: 'report', note });
    addDetail(`run + ${name}: tsrun`, p.a, 'ms');
    addDetail(`run + ${name}: runc`, p.b, 'ms');
  }
}

// 5b. `list` with many containers in --root. The containers are real: each
// is `run -d` of busybox sleep (setup and teardown not counted). Running
// containers rather than created ones, so that 1,000 parked inits of either
// runtime do not have to fit in memory.
async function scList() {
  const counts = [...new Set(opt.listCounts)].sort((a, b) => a - b);
  const have = { tsrun: 0, runc: 0 };
  const width = Math.max(2, NCPU);
  const results = [];
  for (const n of counts) {
    for (const rt of runtimes) {
      const todo = [];
      for (let i = have[rt.name]; i < n; i++) {
        const id = newId('list', rt);
        makeBundle(id, SLEEP);
        rt.ids.add(id);
        todo.push(id);
      }
      progress(`list: starting ${todo.length} ${rt.name} containers (to ${n})`);
      const rs = await pool(todo, width, (id) => spawnAsync(rt.bin, ['--root', rt.root, 'run', '-d', '--bundle', path.join(BUNDLES, id), id]));
      const bad = rs.find((r) => r.status !== 0);
      rs.forEach((r, i) => { if (r.status !== 0) logFailure(`${rt.name} run -d`, `${rt.bin} --root ${rt.root} run -d --bundle ${path.join(BUNDLES, todo[i])} ${todo[i]}`, r.status, r.stderr); });
      if (bad) throw new Error(`${rt.name} run -d: exit ${bad.status}: ${errSummary(bad.stderr)}`);
      have[rt.name] = n;
    }
    const lines = (rt) => {
      const r = check(rt$(rt, ['list']), `${rt.name} list`);
      const got = r.stdout.trim().split('\n').length - 1;
      if (got !== n) throw new Error(`${rt.name} list: ${got} containers listed, want ${n}`);
      return r.ms;
    };
    const p = pairwise(opt.growthRounds, 1, () => lines(TS), () => lines(RC));
    results.push({ n, p });
    addDetail(`list ${n}: tsrun`, p.a, 'ms');
    addDetail(`list ${n}: runc`, p.b, 'ms');
    const first = results[0];
    let note = `n=${opt.growthRounds}; running containers`;
    if (n !== first.n) {
      const per = (a, b) => ((a - b) / (n - first.n) * 1000).toFixed(0);
      note += `; per extra container: tsrun ${per(p.ma, first.p.ma)} µs, runc ${per(p.mb, first.p.mb)} µs`;
    }
    addRow({ scenario: `\`list\` with ${n} containers`, tsrun: p.ma, runc: p.mb, ratio: p.mr, unit: 'ms', target: 'report', note });
  }
  progress('list: deleting');
  for (const rt of runtimes) await deleteAllAsync(rt, width);
}

// 5c. N containers started at once: wall time for all N `run -d` in parallel.
async function scParallel() {
  const N = opt.parallel;
  const pin = NCPU > 2 && fs.existsSync('/usr/bin/taskset');
  const once = async (rt) => {
    const ids = [];
    for (let i = 0; i < N; i++) {
      const id = newId('par', rt);
      makeBundle(id, SLEEP);
      rt.ids.add(id);
      ids.push(id);
    }
    const t0 = process.hrtime.bigint();
    const rs = await Promise.all(ids.map((id) => {
      const args = ['--root', rt.root, 'run', '-d', '--bundle', path.join(BUNDLES, id), id];
      return pin ? spawnAsync('/usr/bin/taskset', ['-c', '0,1', rt.bin, ...args]) : spawnAsync(rt.bin, args);
    }));
    const end = rs.reduce((m, r) => (r.end > m ? r.end : m), t0);
    const bad = rs.filter((r) => r.status !== 0);
    rs.forEach((r, i) => {
      if (r.status === 0) return;
      const how = r.error ? `spawn: ${r.error.message}` : r.signal ? `signal ${r.signal}` : r.status;
      logFailure(`${rt.name} run -d (parallel)`, `${rt.bin} --root ${rt.root} run -d ${ids[i]}`, how, r.stderr);
    });
    await deleteAllAsync(rt, Math.max(2, NCPU));
    if (bad.length) throw new Error(`${rt.name} run -d x${N}: ${bad.length} failed: ${errSummary(bad[0].stderr)}`);
    return Number(end - t0) / 1e6;
  };
  const a = [], b = [];
  for (let i = -1; i < opt.parallelRounds; i++) {
    let x, y;
    if ((i & 1) === 0) { x = await once(TS); y = await once(RC); } else { y = await once(RC); x = await once(TS); }
    if (i >= 0) { a.push(x); b.push(y); }
  }
  const ma = median(a), mb = median(b);
  let note = `n=${opt.parallelRounds}; ${NCPU} cores${pin ? ', pinned to cpus 0,1 with taskset' : ''}`;
  if (runBase) note += `; vs ${N}× a serial \`run\`: tsrun ${(ma / (N * runBase.ma)).toFixed(2)}, runc ${(mb / (N * runBase.mb)).toFixed(2)}`;
  addRow({ scenario: `${N} × \`run -d\` at once (wall)`, tsrun: ma, runc: mb, ratio: median(a.map((x, i) => x / b[i])), unit: 'ms', target: 'report', note });
  addDetail(`parallel ${N}: tsrun`, a, 'ms');
  addDetail(`parallel ${N}: runc`, b, 'ms');
}

// containerd scenario, written separately in bench/ctr-run.js. It is run as
// `node bench/ctr-run.js --tsrun P --runc P --rounds N` and prints a markdown
// table (scenario | tsrun median ms | runc median ms | ratio | cores); its rows
// join this table and its whole output is appended verbatim. Its ratio is
// the ratio of its medians (it does not report pairwise ratios).
let ctrSection = null;
function scContainerd() {
  const script = path.join(__dirname, 'ctr-run.js');
  if (!fs.existsSync(script)) { notes.push('containerd scenario skipped: bench/ctr-run.js not present.'); return; }
  const have = (b) => ['/usr/bin', '/usr/local/bin', '/usr/sbin', '/usr/local/sbin'].some((d) => fs.existsSync(path.join(d, b)));
  if (!have('containerd') || !have('ctr')) { notes.push('containerd scenario skipped: containerd/ctr not installed.'); return; }
  const args = [script, '--tsrun', opt.tsrun, '--runc', opt.runc, '--rounds', String(opt.quick ? opt.rounds : Math.min(opt.rounds, 20))];
  const r = cp.spawnSync(process.execPath, args, { env: ENV, encoding: 'utf8', timeout: 30 * 60000, maxBuffer: 64 << 20 });
  const out = (r.stdout || '').trim();
  if (r.status !== 0) {
    const err = (r.stderr || '').split(/[\r\n]/).filter((l) => l.trim() && !/^round \d/.test(l)).slice(-2).join(' | ').slice(0, 300);
    notes.push(`containerd scenario (bench/ctr-run.js) failed: ${r.error ? r.error.message : `exit ${r.status}`}${err ? `: ${err}` : ''}${out ? ' (its output is below)' : ''}`);
    if (out) ctrSection = out;
    return;
  }
  ctrSection = out;
  for (const line of out.split('\n')) {
    const m = line.match(/^\|\s*([^|]+?)\s*\|\s*([\d.]+)\s*\|\s*([\d.]+)\s*\|\s*([\d.]+)\s*\|/);
    if (!m) continue;
    addRow({
      scenario: `containerd: \`${m[1]}\``, tsrun: Number(m[2]), runc: Number(m[3]), ratio: Number(m[4]), unit: 'ms', target: 'report',
      note: 'bench/ctr-run.js; ratio of medians',
    });
  }
}

// --------------------------------------------------------------------- main --

function versionLine(bin) {
  const r = exec(bin, ['--version'], { timeout: 20000 });
  return r.status === 0 ? r.stdout.trim().split('\n')[0] : `(--version failed: exit ${r.status})`;
}

// Newest mtime under the runtime's dist/ (bin/tsrun loads ../dist), to
// warn when the runtime under test was rebuilt while the benchmark ran.
function distStamp(bin) {
  const dist = path.join(path.dirname(fs.realpathSync(bin)), '..', 'dist');
  let newest = 0;
  const walk = (d) => {
    let ents = [];
    try { ents = fs.readdirSync(d, { withFileTypes: true }); } catch { return; }
    for (const e of ents) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else { try { newest = Math.max(newest, fs.statSync(p).mtimeMs); } catch {} }
    }
  };
  walk(dist);
  return newest;
}

const loadavg = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');

function report(startedAt, versions, errors) {
  const L = [];
  L.push('# tsrun benchmark');
  L.push('');
  L.push(`- date: ${startedAt.toISOString()}`);
  L.push(`- cores: ${NCPU} (${os.cpus()[0] ? os.cpus()[0].model.trim() : '?'})`);
  L.push(`- node: ${process.version}; kernel: ${os.release()}`);
  L.push(`- tsrun: \`${opt.tsrun}\` — ${versions.tsrun}`);
  L.push(`- runc: \`${opt.runc}\` — ${versions.runc}`);
  L.push(`- load average (1/5/15 min): ${versions.loadStart} at start, ${loadavg()} at end`);
  L.push(`- rounds: ${opt.rounds} (growth ${opt.growthRounds}, memory ${opt.memRounds}, parallel ${opt.parallelRounds}), warmup ${opt.warmup}${opt.quick ? ', --quick' : ''}`);
  L.push('- values are medians; ratio is the median of the pairwise ratios tsrun/runc (runs alternate, tsrun and runc in turn)');
  L.push('');
  L.push('| scenario | tsrun | runc | ratio | target | notes |');
  L.push('|---|---:|---:|---:|---|---|');
  for (const r of rows) {
    L.push(`| ${r.scenario} | ${fmt(r.tsrun, r.unit)} | ${fmt(r.runc, r.unit)} | ${fmtRatio(r.ratio)} | ${r.target || ''} | ${r.note || ''} |`);
  }
  if (failuresLogged) notes.push(`${failuresLogged} failed command(s); full stderr in \`${path.join(path.dirname(opt.out), 'failures.log')}\`.`);
  if (errors.length || notes.length) {
    L.push('');
    for (const e of errors) L.push(`- **${e.scenario} failed**: ${e.message}`);
    for (const n of notes) L.push(`- ${n}`);
  }
  if (ctrSection) {
    L.push('', '## containerd (bench/ctr-run.js)', '', '```', ctrSection, '```');
  }
  if (details.length) {
    L.push('', '<details><summary>series (min / median / max)</summary>', '');
    L.push('| series | min | median | max |', '|---|---:|---:|---:|');
    for (const d of details) {
      L.push(`| ${d.series} | ${fmt(Math.min(...d.values), d.unit)} | ${fmt(median(d.values), d.unit)} | ${fmt(Math.max(...d.values), d.unit)} |`);
    }
    L.push('', '</details>');
  }
  return L.join('\n') + '\n';
}

async function main() {
  if (process.getuid && process.getuid() !== 0) die('must run as root (containers, cgroups)');
  for (const rt of runtimes) {
    if (!fs.existsSync(rt.bin)) die(`${rt.name} binary not found: ${rt.bin}`);
    fs.mkdirSync(rt.root, { recursive: true });
  }
  fs.mkdirSync(BUNDLES);
  fs.mkdirSync(IO);
  const startedAt = new Date();
  buildRootfs();
  baseConfig = loadBaseConfig();
  const versions = { tsrun: versionLine(opt.tsrun), runc: versionLine(opt.runc), loadStart: loadavg() };
  const stamp0 = distStamp(opt.tsrun);
  const table = {
    run: scRun, state: scState, exec: scExec, cycle: scCycle, memory: scMemory,
    growth: scGrowth, list: scList, parallel: scParallel, containerd: scContainerd,
  };
  const errors = [];
  for (const name of SCENARIOS) {
    if (!opt.only.includes(name)) continue;
    progress(`scenario ${name}`);
    try {
      await table[name]();
    } catch (e) {
      errors.push({ scenario: name, message: e.message });
      progress(`scenario ${name} failed: ${e.message}`);
    } finally {
      cleanupScenario();
    }
  }
  if (distStamp(opt.tsrun) !== stamp0) notes.push('**warning**: the tsrun build (dist/) changed while the benchmark ran; the tsrun numbers mix two builds.');
  const md = report(startedAt, versions, errors);
  process.stdout.write(md);
  fs.mkdirSync(path.dirname(opt.out), { recursive: true });
  fs.writeFileSync(opt.out, md);
  progress(`written to ${path.relative(process.cwd(), opt.out) || opt.out}`);
  return errors.length ? 1 : 0;
}

main().then((code) => { finalCleanup(); process.exit(code); }, (e) => { process.stderr.write(`bench: ${e.stack || e}\n`); finalCleanup(); process.exit(1); });
