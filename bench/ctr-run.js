#!/usr/bin/env node
'use strict';
// `ctr run --rm` of /bin/true in a busybox rootfs through containerd's runc
// shim, with tsrun and with runc as the runtime binary, side by side in one
// run against one private containerd (scripts/containerd/harness.js, the same
// harness the e2e suite uses). Rounds alternate which runtime goes first so
// neither always gets the warmer caches. Prints a markdown table of medians.
//
//   node bench/ctr-run.js [--rounds N] [--tsrun PATH] [--runc PATH]
//
// Needs root, containerd from Debian, and the compiled test helpers
// (dist/test/helpers/bundle.js builds the busybox rootfs: `npx tsc -p tsconfig.json`).
// The runtimes inherit containerd's environment, which the harness keeps
// minimal: no NODE_EXTRA_CA_CERTS (it alone adds ~40 ms to every Node start,
// and containerd never has it), no NODE_* at all.
// A timing is never asserted; this only reports.

const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');

const repo = path.resolve(__dirname, '..');
const { Harness, skipReason } = require(path.join(repo, 'scripts', 'containerd', 'harness.js'));

function parseArgs(argv) {
  const o = {
    rounds: 20,
    tsrun: process.env.TSRUN_E2E_RUNTIME || path.join(repo, 'bin', 'tsrun'),
    runc: process.env.TSRUN_TEST_RUNC || '/usr/sbin/runc',
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--rounds') o.rounds = Number(v());
    else if (a === '--tsrun') o.tsrun = path.resolve(v());
    else if (a === '--runc') o.runc = path.resolve(v());
    else if (a === '-h' || a === '--help') {
      console.log('usage: node bench/ctr-run.js [--rounds N] [--tsrun PATH] [--runc PATH]');
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  if (!Number.isInteger(o.rounds) || o.rounds < 1) throw new Error('--rounds must be a positive integer');
  return o;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function firstLine(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 10000, env: { PATH: process.env.PATH } });
  return ((r.stdout || '') + (r.stderr || '')).split('\n')[0].trim() || '?';
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const reason = skipReason();
  if (reason) throw new Error(reason);
  for (const b of [o.tsrun, o.runc]) if (!fs.existsSync(b)) throw new Error(`${b} does not exist`);
  const bundleJs = path.join(repo, 'dist', 'test', 'helpers', 'bundle.js');
  if (!fs.existsSync(bundleJs)) throw new Error(`${bundleJs} missing: compile first (npx tsc -p tsconfig.json)`);
  const { makeBundle } = require(bundleJs);

  const h = await Harness.start({ label: 'bench' });
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    const problems = await h.stop();
    if (problems.length) console.error(`teardown problems:\n  ${problems.join('\n  ')}`);
  };
  process.on('SIGINT', () => stop().then(() => process.exit(130)));
  try {
    const rootfs = makeBundle({ tmp: h.tmp, cgroupParent: h.cgroupParent }).rootfs;
    h.trackRootfs(rootfs);
    let n = 0;
    /** One `ctr run --rm /bin/true`, wall-clock ms of the whole ctr command. */
    const once = (runtime) => {
      const id = `b${++n}`;
      const t0 = process.hrtime.bigint();
      const r = h.ctrSync(h.runArgs({ id, rootfs, runtime, rm: true, args: ['/bin/true'] }), { timeoutMs: 60000 });
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (r.code !== 0) throw new Error(`ctr run through ${runtime} failed (${r.code}): ${r.stderr.trim()}`);
      return ms;
    };
    const sides = { tsrun: { bin: o.tsrun, times: [], error: undefined }, runc: { bin: o.runc, times: [], error: undefined } };
    const runSide = (name, record) => {
      const s = sides[name];
      if (s.error) return;
      try {
        const ms = once(s.bin);
        if (record) s.times.push(ms);
      } catch (e) {
        s.error = e.message;
      }
    };
    // Warm-up, not counted: page cache, containerd's first-use paths.
    runSide('runc', false);
    runSide('tsrun', false);
    for (let i = 0; i < o.rounds; i++) {
      const order = i % 2 ? ['runc', 'tsrun'] : ['tsrun', 'runc'];
      for (const name of order) runSide(name, true);
      process.stderr.write(`\rround ${i + 1}/${o.rounds}`);
    }
    process.stderr.write('\n');

    const fmt = (s) => (s.error ? 'failed' : s.times.length ? median(s.times).toFixed(1) : '-');
    const ratio =
      !sides.tsrun.error && !sides.runc.error ? (median(sides.tsrun.times) / median(sides.runc.times)).toFixed(2) : '-';
    const cores = os.cpus().length;
    console.log(`\nctr run --rm /bin/true through containerd ${firstLine('containerd', ['--version']).split(' ').slice(2).join(' ')} (io.containerd.runc.v2), ${o.rounds} rounds, alternating\n`);
    console.log('| scenario | tsrun median ms | runc median ms | ratio tsrun/runc | cores |');
    console.log('|---|---:|---:|---:|---:|');
    console.log(`| ctr run --rm /bin/true | ${fmt(sides.tsrun)} | ${fmt(sides.runc)} | ${ratio} | ${cores} |`);
    console.log(`\ntsrun: ${o.tsrun}\nrunc:  ${o.runc} (${firstLine(o.runc, ['--version'])})`);
    for (const [name, s] of Object.entries(sides)) {
      if (s.error) console.log(`\n${name} failed: ${s.error}`);
      else console.log(`${name} min/max ms: ${Math.min(...s.times).toFixed(1)} / ${Math.max(...s.times).toFixed(1)}`);
    }
    if (sides.tsrun.error || sides.runc.error) process.exitCode = 1;
  } finally {
    await stop();
  }
}

main().catch((e) => {
  console.error(`bench/ctr-run: ${e.message}`);
  process.exit(1);
});
