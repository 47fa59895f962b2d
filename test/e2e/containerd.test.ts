// End to end: a private containerd (scripts/containerd/harness.js) runs
// containers through the runtime under test, the way engines use runc:
// `ctr run --runc-binary <runtime>` goes through containerd's runc shim
// (io.containerd.runc.v2), which calls the runtime with its exact flags.
//
// Runtime under test: TSRUN_E2E_RUNTIME (default <repo>/bin/tsrun). The suite
// is validated against Debian's runc with TSRUN_E2E_RUNTIME=/usr/sbin/runc.
// Cases that need exec, pause/resume, ps or a console socket run only when the
// runtime has them (see runtimeFeatures in ./containerd; TSRUN_E2E_FEATURES
// overrides the probe). TSRUN_E2E_ARGV_OUT=<file> saves the runtime
// invocations recorded by the contract case.
//
// Only root with containerd installed runs this; otherwise it is skipped with
// the reason printed.

import * as fs from 'fs';
import * as path from 'path';
import { spawn } from 'child_process';
import { makeBundle, uniqueId } from '../helpers/bundle';
import { describeIf } from '../helpers/suite';
import { sleep } from '../helpers/runtime';
import { e2eRuntime, e2eSkipReason, Feature, harnessModule, runtimeFeatures, useContainerd } from './containerd';

jest.setTimeout(60_000);

const runtime = e2eRuntime();
const skip = e2eSkipReason();
const features = skip ? new Set<Feature>() : runtimeFeatures(runtime);

/** `it` when the runtime has the feature, else a skipped case whose name says why. */
function itWith(feature: Feature): jest.It {
  if (features.has(feature)) return it;
  return ((name: string, fn: jest.ProvidesCallback, t?: number) =>
    it.skip(`${name} [skipped: runtime lacks ${feature}]`, fn, t)) as unknown as jest.It;
}

if (!skip) {
  // eslint-disable-next-line no-console
  console.log(`containerd e2e: runtime ${runtime}; features: ${[...features].join(',') || '(none beyond the core)'}`);
}

describeIf(skip)(`containerd runc shim through ${path.basename(runtime)}`, () => {
  const ctx = useContainerd('ctr');
  let rootfs: string;

  beforeAll(() => {
    if (!fs.existsSync(runtime)) {
      throw new Error(`runtime ${runtime} does not exist (set TSRUN_E2E_RUNTIME or build bin/tsrun)`);
    }
    // bundle.ts's busybox rootfs; only the rootfs is used (containerd writes
    // its own config.json). It lives in the harness temp dir, removed at stop.
    rootfs = makeBundle({ tmp: ctx.h.tmp, cgroupParent: ctx.h.cgroupParent }).rootfs;
    ctx.h.trackRootfs(rootfs);
  });

  /** Run fn with a fresh container id; the container is removed afterwards whatever happened. */
  async function withContainer<T>(fn: (id: string) => Promise<T>): Promise<T> {
    const id = uniqueId('e2e');
    try {
      return await fn(id);
    } finally {
      await ctx.h.removeContainer(id);
    }
  }

  /** Start a detached container whose output goes to a file; resolves once it printed `ready`. */
  async function startDetached(id: string, script: string, rt = runtime): Promise<string> {
    const log = path.join(ctx.h.tmp, `${id}.out`);
    const r = await ctx.h.ctr(ctx.h.runArgs({ id, rootfs, runtime: rt, detach: true, logFile: log, args: ['/bin/sh', '-c', script] }));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    await waitFor(() => fs.existsSync(log) && fs.readFileSync(log, 'utf8').includes('ready'), `${id} printed ready`);
    return log;
  }

  async function waitFor(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
      await sleep(25);
    }
  }

  /** Cgroup dirs of a container that still exist, in any hierarchy (a deleted container has none). */
  function cgroupDirsOf(id: string): string[] {
    return harnessModule
      .cgroupHierarchies()
      .map((h) => path.join(h, ctx.h.cgroupOf(id)))
      .filter((d) => fs.existsSync(d));
  }

  async function containerIds(): Promise<string[]> {
    const r = await ctx.h.ctr(['container', 'ls', '-q']);
    return r.stdout.split('\n').map((s) => s.trim()).filter(Boolean);
  }

  const SLEEPER = 'echo ready; while :; do sleep 0.1; done';

  it('runs a container that prints and exits with its status (ctr run returns it)', async () => {
    await withContainer(async (id) => {
      const r = await ctx.h.ctr(
        ctx.h.runArgs({ id, rootfs, runtime, rm: true, args: ['/bin/sh', '-c', 'echo hello-out; echo hello-err >&2; exit 42'] }),
      );
      expect(r.stdout).toBe('hello-out\n');
      expect(r.stderr).toBe('hello-err\n');
      expect(r.code).toBe(42);
      // --rm: container record, runtime state and cgroups are gone.
      expect(await containerIds()).not.toContain(id);
      expect(fs.existsSync(path.join(ctx.h.runcRoot, ctx.h.namespace, id))).toBe(false);
      expect(cgroupDirsOf(id)).toEqual([]);
    });
  });

  it('puts the container in the cgroup ctr asked for (absolute --cgroup under our parent)', async () => {
    await withContainer(async (id) => {
      await startDetached(id, SLEEPER);
      const task = (await ctx.h.tasks())[id];
      const cg = fs.readFileSync(`/proc/${task.pid}/cgroup`, 'utf8');
      expect(cg).toContain(`:${ctx.h.cgroupOf(id)}\n`);
      expect(cgroupDirsOf(id).length).toBeGreaterThan(0);
    });
  });

  itWith('exec')('runs a process in a detached container with ctr task exec', async () => {
    await withContainer(async (id) => {
      await startDetached(id, SLEEPER);
      await ctx.h.waitTaskStatus(id, 'RUNNING');
      const r = await ctx.h.ctr([
        'task', 'exec', '--fifo-dir', ctx.h.fifoDir, '--exec-id', 'x1', id,
        '/bin/sh', '-c', 'echo exec-out; cat /proc/1/cmdline | tr "\\0" " "; echo; exit 5',
      ]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(5);
      // Same PID namespace as the container's init, which is the shell.
      expect(r.stdout).toMatch(/^exec-out\n\/bin\/sh -c echo ready/);
      // The exec'd process has gone; the container keeps running.
      expect((await ctx.h.tasks())[id].status).toBe('RUNNING');
    });
  });

  it('ctr task kill delivers the signal and the exit status comes back', async () => {
    await withContainer(async (id) => {
      await startDetached(id, `trap "exit 7" TERM; ${SLEEPER}`);
      const k = await ctx.h.ctr(['task', 'kill', '--signal', 'SIGTERM', id]);
      expect(k.stderr).toBe('');
      expect(k.code).toBe(0);
      await ctx.h.waitTaskStatus(id, 'STOPPED');
      const d = await ctx.h.ctr(['task', 'delete', id]);
      expect(d.code).toBe(0);
      // ctr reports a non-zero exit status of the deleted task on stderr.
      expect(d.stderr).toMatch(/exit code 7\b/);
    });
  });

  it('ctr task kill --all SIGKILL stops every process', async () => {
    await withContainer(async (id) => {
      await startDetached(id, `/bin/sleep 1000 & ${SLEEPER}`);
      const k = await ctx.h.ctr(['task', 'kill', '--all', '--signal', 'SIGKILL', id]);
      expect(k.stderr).toBe('');
      expect(k.code).toBe(0);
      await ctx.h.waitTaskStatus(id, 'STOPPED');
      const d = await ctx.h.ctr(['task', 'delete', id]);
      expect(d.stderr).toMatch(/exit code 137\b/);
    });
  });

  itWith('pause')('ctr task pause freezes the container and resume thaws it', async () => {
    await withContainer(async (id) => {
      const log = await startDetached(id, 'echo ready; i=0; while :; do i=$((i+1)); echo tick $i; sleep 0.05; done');
      const p = await ctx.h.ctr(['task', 'pause', id]);
      expect(p.stderr).toBe('');
      expect(p.code).toBe(0);
      await ctx.h.waitTaskStatus(id, 'PAUSED');
      // The kernel agrees: v1 freezer or v2 cgroup.freeze, whichever this host has.
      const frozen = harnessModule.cgroupHierarchies().flatMap((h) => {
        const d = path.join(h, ctx.h.cgroupOf(id));
        const out: string[] = [];
        for (const f of ['freezer.state', 'cgroup.freeze']) {
          try {
            out.push(`${f}=${fs.readFileSync(path.join(d, f), 'utf8').trim()}`);
          } catch {
            /* not here */
          }
        }
        return out;
      });
      expect(frozen.some((s) => s === 'freezer.state=FROZEN' || s === 'cgroup.freeze=1')).toBe(true);
      // No progress while frozen.
      const before = fs.readFileSync(log, 'utf8');
      await sleep(300);
      expect(fs.readFileSync(log, 'utf8')).toBe(before);
      const r = await ctx.h.ctr(['task', 'resume', id]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      await ctx.h.waitTaskStatus(id, 'RUNNING');
      await waitFor(() => fs.readFileSync(log, 'utf8').length > before.length, 'output after resume');
    });
  });

  it('ctr task metrics reads the container cgroup', async () => {
    await withContainer(async (id) => {
      await startDetached(id, SLEEPER);
      const r = await ctx.h.ctr(['task', 'metrics', '--format', 'json', id]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const m = JSON.parse(r.stdout);
      // cgroup v1 and v2 metrics both have pids.current and memory.
      expect(m.pids.current).toBeGreaterThanOrEqual(1);
      expect(m.memory).toBeDefined();
    });
  });

  itWith('ps')('ctr task ps lists the container processes', async () => {
    await withContainer(async (id) => {
      await startDetached(id, SLEEPER);
      const task = (await ctx.h.tasks())[id];
      const r = await ctx.h.ctr(['task', 'ps', id]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout.split('\n').map((l) => l.trim().split(/\s+/)[0])).toContain(String(task.pid));
    });
  });

  itWith('tty')('runs a tty container (ctr run -t under a pty from script(1))', async () => {
    await withContainer(async (id) => {
      const ctrCmd = [harnessModule.which('ctr') as string, ...ctx.h.ctrArgs(
        ctx.h.runArgs({
          id, rootfs, runtime, rm: true, tty: true,
          args: ['/bin/sh', '-c', 'test -t 0 && test -t 1 && echo TTY-OK; read line; echo "got:$line"; exit 4'],
        }),
      )].map(harnessModule.shq).join(' ');
      // script gives ctr a terminal; -e returns ctr's exit status; the typescript file is /dev/null.
      const child = spawn('script', ['-qec', ctrCmd, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
      try {
        // Input only once the container proved it has a terminal and waits on read.
        // (or script already exited: then fail at once, with ctr's output).
        await waitFor(() => out.includes('TTY-OK') || child.exitCode !== null, 'TTY-OK from the tty container', 20_000);
        expect(out).toContain('TTY-OK');
        child.stdin.write('hello\n');
        let timer: NodeJS.Timeout | undefined;
        const code = await Promise.race([exited, new Promise<number>((r) => (timer = setTimeout(() => r(-2), 20_000)))]);
        clearTimeout(timer);
        expect(out).toContain('got:hello');
        expect(code).toBe(4);
      } finally {
        if (child.exitCode === null && child.pid) process.kill(child.pid, 'SIGKILL');
        child.stdin.destroy();
      }
    });
  });

  it('deletes a container completely, and the same id can be reused at once', async () => {
    await withContainer(async (id) => {
      await startDetached(id, SLEEPER);
      await ctx.h.ctr(['task', 'kill', '--signal', 'SIGKILL', id]);
      await ctx.h.waitTaskStatus(id, 'STOPPED');
      const td = await ctx.h.ctr(['task', 'delete', id]);
      expect(td.code).toBe(0);
      const cd = await ctx.h.ctr(['container', 'delete', id]);
      expect(cd.stderr).toBe('');
      expect(cd.code).toBe(0);
      expect(await containerIds()).not.toContain(id);
      expect(Object.keys(await ctx.h.tasks())).not.toContain(id);
      expect(fs.existsSync(path.join(ctx.h.runcRoot, ctx.h.namespace, id))).toBe(false);
      expect(cgroupDirsOf(id)).toEqual([]);
      // Engines reuse ids right after delete.
      const again = await ctx.h.ctr(ctx.h.runArgs({ id, rootfs, runtime, rm: true, args: ['/bin/sh', '-c', 'echo again'] }));
      expect(again.stdout).toBe('again\n');
      expect(again.code).toBe(0);
    });
  });

  it('runs through a runtime registered by name (ctr run --runtime)', async () => {
    const argvLog = path.join(ctx.h.tmp, 'named-argv.log');
    const name = ctx.h.registerRuntime('tsrune2e', ctx.h.wrapper('named-recorder', runtime, { argvLog }));
    await withContainer(async (id) => {
      const r = await ctx.h.ctr(ctx.h.runArgs({ id, rootfs, runtimeName: name, rm: true, args: ['/bin/sh', '-c', 'echo named; exit 3'] }));
      expect(r.stdout).toBe('named\n');
      expect(r.code).toBe(3);
      // It really was our runtime, with the shim's default root for the namespace.
      const calls = harnessModule.readArgvLog(argvLog);
      const create = calls.find((c) => c.includes('create'));
      expect(create).toBeDefined();
      expect(create).toEqual(expect.arrayContaining(['--root', `/run/containerd/runc/${ctx.h.namespace}`]));
      expect(create![create!.length - 1]).toBe(id);
      expect(cgroupDirsOf(id)).toEqual([]);
    });
  });

  it("shows the runtime's own error through ctr when the executable is missing", async () => {
    const runtimeLog = path.join(ctx.h.tmp, 'failing-runtime-log.json');
    const wrapped = ctx.h.wrapper('log-copier', runtime, { copyLogTo: runtimeLog });
    await withContainer(async (id) => {
      const r = await ctx.h.ctr(ctx.h.runArgs({ id, rootfs, runtime: wrapped, rm: true, args: ['/bin/no-such-exe'] }));
      expect(r.code).not.toBe(0);
      expect(r.stdout).toBe('');
      // containerd shows the msg of the runtime's last "level":"error" log line.
      const errors = fs
        .readFileSync(runtimeLog, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l))
        .filter((e) => e.level === 'error');
      expect(errors.length).toBeGreaterThan(0);
      const msg: string = errors[errors.length - 1].msg;
      expect(msg).toContain('/bin/no-such-exe');
      expect(r.stderr).toContain(msg);
      expect(r.stderr).toMatch(/OCI runtime create failed/);
      // Nothing left of the failed container.
      expect(cgroupDirsOf(id)).toEqual([]);
      expect(fs.existsSync(path.join(ctx.h.runcRoot, ctx.h.namespace, id))).toBe(false);
    });
  });

  it('is called by the shim with the runc CLI contract (recorded argv)', async () => {
    const argvLog = path.join(ctx.h.tmp, 'contract-argv.log');
    const fdLog = path.join(ctx.h.tmp, 'contract-fds.log');
    const wrapped = ctx.h.wrapper('contract-recorder', runtime, { argvLog, fdLog });
    await withContainer(async (id) => {
      await startDetached(id, SLEEPER, wrapped);
      if (features.has('exec')) {
        await ctx.h.ctr(['task', 'exec', '--fifo-dir', ctx.h.fifoDir, '--exec-id', 'x1', id, '/bin/true']);
      }
      if (features.has('pause')) {
        await ctx.h.ctr(['task', 'pause', id]);
        await ctx.h.ctr(['task', 'resume', id]);
      }
      if (features.has('ps')) await ctx.h.ctr(['task', 'ps', id]);
      await ctx.h.ctr(['task', 'kill', '--signal', 'SIGKILL', id]);
      await ctx.h.waitTaskStatus(id, 'STOPPED');
      await ctx.h.ctr(['task', 'delete', id]);
      await ctx.h.ctr(['container', 'delete', id]);

      const calls = harnessModule.readArgvLog(argvLog);
      if (process.env.TSRUN_E2E_ARGV_OUT) {
        const fds = fs.existsSync(fdLog) ? fs.readFileSync(fdLog, 'utf8').split('\n').filter(Boolean) : [];
        fs.writeFileSync(
          process.env.TSRUN_E2E_ARGV_OUT,
          calls.map((c, i) => `${c.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : harnessModule.shq(a))).join(' ')}\n    fds: ${fds[i] ?? '?'}`).join('\n') + '\n',
        );
      }
      const stateDir = path.join(ctx.h.state, 'io.containerd.runtime.v2.task', ctx.h.namespace, id);
      const global = ['--root', path.join(ctx.h.runcRoot, ctx.h.namespace), '--log', path.join(stateDir, 'log.json'), '--log-format', 'json'];
      const cmd = (c: string[]) => c.slice(global.length);
      for (const c of calls) expect(c.slice(0, global.length)).toEqual(global);
      expect(cmd(calls[0])).toEqual(['create', '--bundle', stateDir, '--pid-file', path.join(stateDir, 'init.pid'), id]);
      expect(cmd(calls[1])).toEqual(['start', id]);
      const rest = calls.slice(2).map(cmd);
      if (features.has('exec')) {
        expect(rest).toContainEqual(['exec', '--process', expect.stringMatching(/runc-process/), '--detach', '--pid-file', path.join(stateDir, 'x1.pid'), id]);
      }
      if (features.has('pause')) {
        expect(rest).toContainEqual(['pause', id]);
        expect(rest).toContainEqual(['resume', id]);
      }
      if (features.has('ps')) expect(rest).toContainEqual(['ps', '--format', 'json', id]);
      expect(rest).toContainEqual(['kill', id, '9']);
      expect(rest).toContainEqual(['delete', id]);
    });
  });
});
