// OCI hooks at every lifecycle point (runtime spec, config.md "POSIX-platform Hooks"):
// where each runs (namespaces), what it gets (state JSON on stdin, argv and env
// exactly), timeouts, and the failure rules (teardown for prestart, createRuntime
// and createContainer; warnings for poststart and poststop; a failing
// startContainer hook stops the container before the user's process runs).
// Hooks are /bin/sh one-liners: the host's sh for the runtime's hooks and for
// createContainer (before pivot_root the host's root is still the root), the
// container's busybox sh for startContainer.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { errorMessage, flavorOf, repoRoot, runtimeUnderTest, pidAlive, waitFor } from '../helpers/runtime';
import { isEmpty } from '../helpers/cleanup';
import { containerSkipReason, describeIf, expectOk, useSuite } from '../helpers/suite';

jest.setTimeout(60_000);

const BINARY = runtimeUnderTest();
const FLAVOR = flavorOf(BINARY);
const KINDS = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'] as const;
type Kind = (typeof KINDS)[number];
/** Inside the container the shared dir is mounted here. */
const IN_CONTAINER = '/hookout';

describeIf(containerSkipReason())(`hooks (${BINARY})`, () => {
  const s = useSuite('hooks', BINARY);
  afterEach(() => {
    s.forceClean();
  });

  /** A bundle with a host dir bound at /hookout (rw) for the hooks' and the process's output. */
  const hookBundle = (hooks: (dir: string) => Record<string, unknown[]>, args = ['sh', '-c', `echo process >> ${IN_CONTAINER}/log; sleep 1000`], oomScoreAdj?: number) => {
    let dir = '';
    const b = s.bundle({
      configure: (c) => {
        dir = fs.mkdtempSync(path.join(s.env.tmp, 'hookout-'));
        fs.chmodSync(dir, 0o777);
        c.process.args = args;
        if (oomScoreAdj !== undefined) c.process.oomScoreAdj = oomScoreAdj;
        c.mounts.push({ destination: IN_CONTAINER, type: 'bind', source: dir, options: ['rbind', 'rw'] });
        c.annotations = { 'org.example.hooks': 'yes' };
        c.hooks = hooks(dir);
      },
    });
    return { b, dir };
  };

  /** A hook that records its argv, environ, stdin, mount and pid namespaces, and appends its kind to the log. */
  const recorder = (kind: Kind, dir: string) => {
    const d = kind === 'startContainer' ? IN_CONTAINER : dir;
    const script =
      // The redirections are opened by the shell's own fork, before cat is exec'd: they
      // read the hook's argv and environment (before pivot_root, /proc is the host's,
      // so the hook's $$ in the container's pid namespace would name another process).
      // The state is read by name, as `jq . /dev/stdin` reads it: a pipe (runc's) can be
      // reopened so, a socket cannot (ENXIO).
      `cat < /proc/self/cmdline > ${d}/${kind}.argv; cat < /proc/self/environ > ${d}/${kind}.env; cat /dev/stdin > ${d}/${kind}.stdin; ` +
      `readlink /proc/self/ns/mnt > ${d}/${kind}.mnt; readlink /proc/self/ns/pid > ${d}/${kind}.pidns; pwd -P > ${d}/${kind}.cwd; echo ${kind} >> ${d}/log`;
    // busybox (the container's sh) picks its applet by argv[0]: there it stays "sh".
    const argv0 = kind === 'startContainer' ? 'sh' : `${kind}-argv0`;
    return { path: '/bin/sh', args: [argv0, '-c', script, 'arg0', 'a b'], env: [`HOOK=${kind}`, 'SPACED=x y'] };
  };

  const read = (dir: string, file: string) => fs.readFileSync(path.join(dir, file), 'utf8');
  const nulList = (text: string) => text.split('\0').filter((x, i, a) => i < a.length - 1 || x !== '');
  const logOf = (dir: string) => (fs.existsSync(path.join(dir, 'log')) ? read(dir, 'log').trim().split('\n') : []);
  const selfNs = (ns: string) => fs.readlinkSync(`/proc/self/ns/${ns}`);

  /** The status and pid each kind is given, for a container whose init is `pid` on the host. */
  const expectedStates = (pid: number): Record<Kind, { status: string; pid?: number }> => ({
    prestart: { status: 'creating', pid },
    createRuntime: { status: 'creating', pid },
    // In the container's namespaces the pid is the one the container sees (spec; runc too).
    createContainer: { status: 'creating', pid: 1 },
    startContainer: { status: 'created', pid: 1 },
    poststart: { status: 'running', pid },
    // No pid once stopped: the spec requires one only while created or running (runc has none).
    poststop: { status: 'stopped' },
  });

  /** Kills and deletes the container, then checks the order the hooks and the process ran in. */
  const stopAndCheckOrder = async (b: { id: string }, dir: string): Promise<string[]> => {
    expectOk(s.cli.kill(b.id, 'KILL'));
    await s.cli.waitStatus(b.id, 'stopped');
    expectOk(s.cli.delete(b.id));
    const log = logOf(dir);
    expect(log.filter((k) => k !== 'poststart')).toEqual(['prestart', 'createRuntime', 'createContainer', 'startContainer', 'process', 'poststop']);
    expect(log.indexOf('poststart')).toBeGreaterThan(log.indexOf('createContainer'));
    return log;
  };

  test('every kind of hook starts with no signal ignored or blocked, glibc\'s reserved 32 and 33 included (as runc\'s)', async () => {
    const { b, dir } = hookBundle((d) => Object.fromEntries(KINDS.map((k) => {
      const [out, grep] = k === 'startContainer' ? [IN_CONTAINER, 'busybox grep'] : [d, 'grep'];
      return [k, [{ path: '/bin/sh', args: ['sh', '-c', `${grep} -E "^Sig(Ign|Blk)" /proc/self/status > ${out}/${k}.sig; echo ${k} >> ${out}/log`] }]];
    })));
    expectOk(s.cli.create(b.id, b.dir));
    expectOk(s.cli.start(b.id));
    await waitFor(() => logOf(dir).includes('process') && logOf(dir).includes('poststart'), 'the process and poststart');
    await stopAndCheckOrder(b, dir);
    const seen = Object.fromEntries(KINDS.map((k) => [k, read(dir, `${k}.sig`).replace(/\s+/g, ' ').trim()]));
    expect(seen).toEqual(Object.fromEntries(KINDS.map((k) => [k, 'SigBlk: 0000000000000000 SigIgn: 0000000000000000'])));
  });

  // runc applies process.oomScoreAdj to its init before the container's mounts: the
  // hooks the init runs have it; those the runtime runs have the runtime's own.
  test('the hooks the init runs (createContainer, startContainer) have the config\'s oom_score_adj, the others the runtime\'s', async () => {
    const { b, dir } = hookBundle((d) => Object.fromEntries(KINDS.map((k) => {
      const out = k === 'startContainer' ? IN_CONTAINER : d;
      return [k, [{ path: '/bin/sh', args: ['sh', '-c', `cat /proc/self/oom_score_adj > ${out}/${k}.oom; echo ${k} >> ${out}/log`] }]];
    })), undefined, 123);
    expectOk(s.cli.create(b.id, b.dir));
    expectOk(s.cli.start(b.id));
    await waitFor(() => logOf(dir).includes('process') && logOf(dir).includes('poststart'), 'the process and poststart');
    await stopAndCheckOrder(b, dir);
    const own = fs.readFileSync('/proc/self/oom_score_adj', 'utf8').trim();
    const seen = Object.fromEntries(KINDS.map((k) => [k, read(dir, `${k}.oom`).trim()]));
    expect(seen).toEqual({ prestart: own, createRuntime: own, createContainer: '123', startContainer: '123', poststart: own, poststop: own });
  });

  test('all six kinds run at their points, in their namespaces, with the state, argv and env exactly', async () => {
    const { b, dir } = hookBundle((d) => Object.fromEntries(KINDS.map((k) => [k, [recorder(k, d)]])));
    const stderrFile = path.join(s.env.tmp, `${b.id}.stderr`);
    expectOk(s.cli.create(b.id, b.dir, [], { stderrFile }));
    // runc 1.1.5 runs poststart at create (runc 1.2 still does; runc PR #5186 of 2026 moved it to start); the spec says after the exec.
    if (s.cli.flavor === 'runc') expect(logOf(dir)).toEqual(['prestart', 'createRuntime', 'createContainer', 'poststart']);
    else expect(logOf(dir)).toEqual(['prestart', 'createRuntime', 'createContainer']);
    const { pid, ociVersion } = s.cli.state(b.id) as { pid: number; ociVersion: string };
    const containerMnt = fs.readlinkSync(`/proc/${pid}/ns/mnt`);
    const containerPidNs = fs.readlinkSync(`/proc/${pid}/ns/pid`);
    expectOk(s.cli.start(b.id));
    await waitFor(() => logOf(dir).includes('process') && logOf(dir).includes('poststart'), 'the process and poststart').catch((e) => {
      throw new Error(`${(e as Error).message}; log: ${logOf(dir).join(',')}; container stderr: ${fs.readFileSync(stderrFile, 'utf8')}`);
    });
    const log = await stopAndCheckOrder(b, dir);
    expect(log.indexOf('poststart')).toBeLessThan(log.indexOf('poststop'));

    const bundle = fs.realpathSync(b.dir);
    const expectedState = expectedStates(pid);
    // runc 1.1.5 runs poststart at create, so it sees the container created.
    if (s.cli.flavor === 'runc') expectedState.poststart = { status: 'created', pid };
    for (const kind of KINDS) {
      const state = JSON.parse(read(dir, `${kind}.stdin`));
      // Strict: a key present as undefined (or missing) counts.
      expect({ kind, state }).toStrictEqual({
        kind,
        state: { ociVersion, id: b.id, bundle, annotations: { 'org.example.hooks': 'yes' }, ...expectedState[kind] },
      });
      expect({ kind, argv: nulList(read(dir, `${kind}.argv`)) }).toEqual({ kind, argv: recorder(kind, dir).args });
      expect({ kind, env: nulList(read(dir, `${kind}.env`)) }).toEqual({ kind, env: [`HOOK=${kind}`, 'SPACED=x y'] });
      const inContainer = kind === 'createContainer' || kind === 'startContainer';
      expect({ kind, mnt: read(dir, `${kind}.mnt`).trim() }).toEqual({ kind, mnt: inContainer ? containerMnt : selfNs('mnt') });
      expect({ kind, pidns: read(dir, `${kind}.pidns`).trim() }).toEqual({ kind, pidns: inContainer ? containerPidNs : selfNs('pid') });
    }
    // Where each ran (runc: the bundle, where it chdirs for create; the rootfs for
    // createContainer; the process's cwd for startContainer; runc 1.1.5's poststop, at
    // delete, in the caller's directory, which tsrun's bundle rule does not copy).
    const cwdOf = (kind: Kind) => read(dir, `${kind}.cwd`).trim();
    expect(KINDS.filter((k) => k !== 'poststop' || s.cli.flavor === 'tsrun').map((kind) => ({ kind, cwd: cwdOf(kind) }))).toEqual(
      KINDS.filter((k) => k !== 'poststop' || s.cli.flavor === 'tsrun').map((kind) => ({
        kind,
        cwd: kind === 'createContainer' ? path.join(bundle, 'rootfs') : kind === 'startContainer' ? b.config.process.cwd : bundle,
      })),
    );
  });

  test('a hook without env inherits its runner\'s environment (the runtime\'s, or inside the container the process\'s); env [] is an empty one', async () => {
    const processEnv = ['PATH=/bin:/usr/bin', 'FROM_CONFIG=1'];
    const envOf = (kind: Kind, dir: string, suffix: string) => {
      const d = kind === 'startContainer' ? IN_CONTAINER : dir;
      // Two commands: sh forks for the first, whose redirection reads the hook's environ.
      return { path: '/bin/sh', args: ['sh', '-c', `cat < /proc/self/environ > ${d}/${kind}${suffix}.env; echo ${kind}${suffix} >> ${d}/log`] };
    };
    const { b, dir } = hookBundle((d) =>
      Object.fromEntries(KINDS.map((k) => [k, [envOf(k, d, ''), { ...envOf(k, d, '-empty'), env: [] }]])),
    );
    b.rewrite((c) => (c.process.env = processEnv));
    const runtimeEnv = { TSRUN_TEST_HOOK_ENV: 'create' };
    expectOk(s.cli.create(b.id, b.dir, [], { env: runtimeEnv }));
    expectOk(s.cli.start(b.id, { env: { TSRUN_TEST_HOOK_ENV: 'start' } }));
    await waitFor(() => logOf(dir).includes('process') && logOf(dir).includes('poststart-empty'), 'the process and poststart');
    expectOk(s.cli.kill(b.id, 'KILL'));
    await s.cli.waitStatus(b.id, 'stopped');
    expectOk(s.cli.run(['delete', b.id], { env: { TSRUN_TEST_HOOK_ENV: 'delete' } }));

    const envOfKind = (kind: Kind, suffix = '') => nulList(read(dir, `${kind}${suffix}.env`));
    // The runtime's hooks: the environment of the command that runs them (PATH included).
    // runc 1.1.5 runs poststart at create (see above).
    const ranAt: Record<string, string> = { prestart: 'create', createRuntime: 'create', poststart: s.cli.flavor === 'runc' ? 'create' : 'start', poststop: 'delete' };
    for (const [kind, command] of Object.entries(ranAt)) {
      const env = envOfKind(kind as Kind);
      const seen = (name: string) => env.find((e) => e.startsWith(`${name}=`));
      expect({ kind, seen: ['TSRUN_TEST_HOOK_ENV', 'TSRUN_TEST_HOST_CANARY', 'PATH'].map(seen) }).toEqual({
        kind,
        seen: [`TSRUN_TEST_HOOK_ENV=${command}`, 'TSRUN_TEST_HOST_CANARY=leaked', `PATH=${process.env.PATH}`],
      });
    }
    // In the container: before the pivot the process's env as config.json has it; at
    // startContainer what the process gets, with the default HOME from /etc/passwd.
    expect(envOfKind('createContainer')).toEqual(processEnv);
    expect(envOfKind('startContainer')).toEqual([...processEnv, 'HOME=/root']);
    for (const kind of KINDS) expect({ kind, env: envOfKind(kind, '-empty') }).toEqual({ kind, env: [] });
  });

  test('run: every kind at its point with its status (tsrun starts such an init without the exec FIFO)', async () => {
    const { b, dir } = hookBundle((d) => Object.fromEntries(KINDS.map((k) => [k, [recorder(k, d)]])));
    expectOk(s.cli.runContainer(b.id, b.dir, ['-d']));
    await waitFor(() => logOf(dir).includes('process') && logOf(dir).includes('poststart'), 'the process and poststart');
    const pid = s.cli.state(b.id).pid as number;
    expect(s.cli.state(b.id).status).toBe('running');
    expect(fs.existsSync(path.join(s.cli.root, b.id, 'exec.fifo'))).toBe(false);
    await stopAndCheckOrder(b, dir);
    const statuses = expectedStates(pid);
    for (const kind of KINDS) {
      // runc 1.1.5 runs poststart before start (see above).
      if (kind === 'poststart' && s.cli.flavor === 'runc') continue;
      const { status, pid: seen } = JSON.parse(read(dir, `${kind}.stdin`));
      expect({ kind, status, pid: seen }).toStrictEqual({ kind, pid: undefined, ...statuses[kind] });
    }
  });

  test('a container without annotations gives hooks a state without the key (runc: Go\'s omitempty)', () => {
    const save = (kind: Kind, dir: string) => ({ path: '/bin/sh', args: ['sh', '-c', `cat > ${dir}/${kind}.stdin`] });
    const kinds = ['prestart', 'createContainer', 'poststop'] as const;
    const { b, dir } = hookBundle((d) => Object.fromEntries(kinds.map((k) => [k, [save(k, d)]])), ['true']);
    b.rewrite((c) => delete c.annotations);
    expectOk(s.cli.runContainer(b.id, b.dir));
    const keys = (kind: Kind) => Object.keys(JSON.parse(read(dir, `${kind}.stdin`)));
    expect(kinds.map((kind) => ({ kind, keys: keys(kind) }))).toEqual([
      { kind: 'prestart', keys: ['ociVersion', 'id', 'status', 'pid', 'bundle'] },
      { kind: 'createContainer', keys: ['ociVersion', 'id', 'status', 'pid', 'bundle'] },
      { kind: 'poststop', keys: ['ociVersion', 'id', 'status', 'bundle'] },
    ]);
  });

  test('annotations of 300 KiB (Kubernetes allows 256 KiB) reach every hook whole, at create and at start, on a stdin readable by name', async () => {
    const save = (kind: Kind, dir: string) => ({ path: '/bin/sh', args: ['sh', '-c', `cat /dev/stdin > ${dir}/${kind}.stdin`] });
    const kinds = ['prestart', 'createContainer', 'startContainer', 'poststart'] as const;
    const { b, dir } = hookBundle((d) => Object.fromEntries(kinds.map((k) => [k, [save(k, k === 'startContainer' ? IN_CONTAINER : d)]])), ['true']);
    const big = 'x'.repeat(300 * 1024);
    b.rewrite((c) => (c.annotations = { 'org.example.big': big }));
    expectOk(s.cli.create(b.id, b.dir));
    expectOk(s.cli.start(b.id));
    await waitFor(() => fs.existsSync(path.join(dir, 'poststart.stdin')), 'poststart');
    for (const kind of kinds) {
      const text = read(dir, `${kind}.stdin`);
      expect({ kind, big: text.length > big.length && JSON.parse(text).annotations['org.example.big'] === big }).toEqual({ kind, big: true });
    }
  });

  test('annotations of 6 MB with prestart and poststart hooks only: create and start succeed and the hooks get them whole (the init, which runs no hook, is not sent them)', async () => {
    const save = (kind: Kind, dir: string) => ({ path: '/bin/sh', args: ['sh', '-c', `cat /dev/stdin > ${dir}/${kind}.stdin`] });
    const { b, dir } = hookBundle((d) => ({ prestart: [save('prestart', d)], poststart: [save('poststart', d)] }), ['true']);
    const big = 'x'.repeat(6 << 20);
    b.rewrite((c) => (c.annotations = { 'org.example.big': big }));
    expectOk(s.cli.create(b.id, b.dir));
    expectOk(s.cli.start(b.id));
    await waitFor(() => fs.existsSync(path.join(dir, 'poststart.stdin')) && read(dir, 'poststart.stdin').length > big.length, 'poststart');
    for (const kind of ['prestart', 'poststart'] as const) {
      expect({ kind, big: JSON.parse(read(dir, `${kind}.stdin`)).annotations['org.example.big'] === big }).toEqual({ kind, big: true });
    }
  });

  test('what a runtime hook writes is kept whole, as runc keeps it: 70 MB of output does not fail create', () => {
    const { b } = hookBundle(() => ({ prestart: [{ path: '/bin/sh', args: ['sh', '-c', 'head -c 70000000 /dev/zero; echo done >&2'] }] }), ['true']);
    expectOk(s.cli.create(b.id, b.dir));
  });

  test('poststop runs after the container is gone: no state dir, no cgroup, no process', () => {
    const { b, dir } = hookBundle((d) => ({
      poststop: [
        {
          path: '/bin/sh',
          args: ['sh', '-c', `p=$(cat) ; ls -d "$1" "$2" > ${d}/seen 2>&1; echo "$p" > ${d}/stdin`, 'x', '', ''],
        },
      ],
    }), ['true']);
    // Paths filled in once known: the state dir and the cgroup dir of this container.
    b.rewrite((c) => {
      c.hooks.poststop[0].args[4] = path.join(s.cli.root, b.id);
      c.hooks.poststop[0].args[5] = fs.existsSync('/sys/fs/cgroup/cgroup.controllers')
        ? path.join('/sys/fs/cgroup', b.cgroupsPath)
        : path.join('/sys/fs/cgroup/memory', b.cgroupsPath);
    });
    expectOk(s.cli.runContainer(b.id, b.dir));
    // ls names every path it cannot find: both were gone when the hook ran.
    const seen = read(dir, 'seen');
    expect(seen).toContain(`${path.join(s.cli.root, b.id)}': No such file or directory`);
    expect(seen).toMatch(/cgroup.*: No such file or directory/);
    const poststop = JSON.parse(read(dir, 'stdin'));
    expect({ status: poststop.status, hasPid: 'pid' in poststop }).toEqual({ status: 'stopped', hasPid: false });
  });

  const failing = (dir: string, code: number) => ({ path: '/bin/sh', args: ['sh', '-c', `echo boom >&2; echo ran >> ${dir}/failed; exit ${code}`] });
  const pidRecorder = (dir: string) => ({ path: '/bin/sh', args: ['sh', '-c', `cat > ${dir}/prestart.stdin`] });
  const poststopRecorder = (dir: string) => ({ path: '/bin/sh', args: ['sh', '-c', `cat > ${dir}/poststop.stdin`] });

  for (const kind of ['prestart', 'createRuntime', 'createContainer'] as const) {
    test(`a failing ${kind} hook fails create and leaves nothing (poststop hooks still run)`, () => {
      const { b, dir } = hookBundle((d) => ({
        prestart: kind === 'prestart' ? [pidRecorder(d), failing(d, 3)] : [pidRecorder(d)],
        [kind === 'prestart' ? 'createRuntime' : kind]: [failing(d, 3)],
        poststop: [poststopRecorder(d)],
      }));
      const r = s.cli.create(b.id, b.dir);
      expect(r.code).toBe(s.cli.flavor === 'runc' ? 1 : 1);
      if (s.cli.flavor === 'tsrun') {
        const index = kind === 'prestart' ? 1 : 0;
        expect(r.stderr).toContain(`error running ${kind} hook #${index}: /bin/sh: exit status 3, stdout: , stderr: boom`);
      }
      expect(read(dir, 'failed')).toBe('ran\n');
      const pid = JSON.parse(read(dir, 'prestart.stdin')).pid as number;
      expect(pidAlive(pid)).toBe(false);
      expect(s.cli.stateRaw(b.id).code).not.toBe(0);
      expect(isEmpty(s.leftovers())).toBe(true);
      const poststop = JSON.parse(read(dir, 'poststop.stdin'));
      expect({ status: poststop.status, hasPid: 'pid' in poststop }).toEqual({ status: 'stopped', hasPid: false });
    });
  }

  test('a hook that outlives its timeout is killed and fails create (prestart and createContainer)', () => {
    for (const kind of ['prestart', 'createContainer'] as const) {
      const { b, dir } = hookBundle((d) => ({
        prestart: [pidRecorder(d)],
        [kind === 'prestart' ? 'createRuntime' : kind]: [{ path: '/bin/sh', args: ['sh', '-c', `echo $$ > ${d}/sleeper; exec sleep 1000`], timeout: 1 }],
      }));
      const r = s.cli.create(b.id, b.dir);
      expect({ kind, code: r.code }).toEqual({ kind, code: 1 });
      const name = kind === 'prestart' ? 'createRuntime' : kind;
      if (s.cli.flavor === 'tsrun') expect(r.stderr).toContain(`error running ${name} hook #0: /bin/sh: timed out after 1s, stdout: , stderr: `);
      if (kind === 'prestart') expect(pidAlive(Number(read(dir, 'sleeper')))).toBe(false);
      expect(pidAlive(JSON.parse(read(dir, 'prestart.stdin')).pid)).toBe(false);
      expect(isEmpty(s.leftovers())).toBe(true);
    }
  });

  test('what the hooks the init runs write is captured, never in the container\'s output; a failing one\'s stdout and stderr are in the error, apart (runc)', () => {
    const noisy = (what: string) => ({ path: '/bin/sh', args: ['sh', '-c', `echo ${what}-out; echo ${what}-err >&2`] });
    const { b } = hookBundle(() => ({ createContainer: [noisy('create')], startContainer: [noisy('start')] }), ['echo', 'process-output']);
    const r = s.cli.runContainer(b.id, b.dir);
    expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 0, stdout: 'process-output\n' });
    expect(r.stderr).not.toMatch(/create-|start-/);

    const failing = s.bundle({
      configure: (c) => {
        c.process.args = ['echo', 'never'];
        c.hooks = { createContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'echo first; echo the reason >&2; exit 3'] }] };
      },
    });
    const f = s.cli.runContainer(failing.id, failing.dir);
    expect(f.code).not.toBe(0);
    expect(f.stdout).toBe('');
    // runc 1.1.5: "error running hook #0: error running hook: exit status 3, stdout: ...".
    expect(errorMessage(f)).toMatch(s.cli.flavor === 'tsrun' ? /^error running createContainer hook #0: \/bin\/sh: exit status 3, stdout: first\n, stderr: the reason\n$/ : /exit status 3, stdout: first\n, stderr: the reason\n$/);
    expect(isEmpty(s.leftovers())).toBe(true);

    // A hook that never stops writing still meets its timeout.
    const chatty = s.bundle({
      configure: (c) => {
        c.process.args = ['echo', 'never'];
        c.hooks = { createContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'while :; do echo flood; done'], timeout: 1 }] };
      },
    });
    const t = s.cli.runContainer(chatty.id, chatty.dir, [], { timeoutMs: 20_000 });
    expect({ code: t.code, timedOut: t.timedOut, stdout: t.stdout }).toEqual({ code: 1, timedOut: false, stdout: '' });
    if (s.cli.flavor === 'tsrun') expect(errorMessage(t)).toMatch(/^error running createContainer hook #0: \/bin\/sh: timed out after 1s, stdout: \[\.\.\.\][a-z]*\n(flood\n)+, stderr: $/);
    expect(isEmpty(s.leftovers())).toBe(true);
  });

  test('a hook killed by a signal fails create with Go\'s words for it, run by tsrun or by the init (runc); a real-time one too', () => {
    for (const kind of ['createRuntime', 'createContainer'] as const) {
      const { b } = hookBundle(() => ({ [kind]: [{ path: '/bin/sh', args: ['sh', '-c', 'echo said; kill -SYS $$'] }] }));
      const r = s.cli.create(b.id, b.dir);
      expect({ kind, code: r.code }).toEqual({ kind, code: 1 });
      expect(errorMessage(r)).toMatch(s.cli.flavor === 'tsrun'
        ? new RegExp(`^error running ${kind} hook #0: /bin/sh: signal: bad system call, stdout: said\n, stderr: $`)
        : /signal: bad system call, stdout: said\n, stderr: $/);
      expect(isEmpty(s.leftovers())).toBe(true);
      // Node names no real-time signal: tsrun says so rather than "exit status null".
      const rt = hookBundle(() => ({ [kind]: [{ path: '/bin/sh', args: ['sh', '-c', 'echo said; kill -34 $$'] }] })).b;
      const t = s.cli.create(rt.id, rt.dir);
      expect({ kind, code: t.code }).toEqual({ kind, code: 1 });
      expect(errorMessage(t)).toMatch(/signal: (a real-time signal|signal 34), stdout: said\n, stderr: $/);
      expect(isEmpty(s.leftovers())).toBe(true);
    }
  });

  test('a hook that cannot be executed fails create naming the hook, run by the init or by tsrun', () => {
    const { b } = hookBundle(() => ({ createContainer: [{ path: '/nonexistent/hook' }] }));
    const r = s.cli.create(b.id, b.dir);
    expect(r.code).toBe(1);
    if (s.cli.flavor === 'tsrun') expect(r.stderr).toContain('error running createContainer hook #0: /nonexistent/hook: execve: ENOENT (no such file or directory)');
    expect(isEmpty(s.leftovers())).toBe(true);
    const host = hookBundle(() => ({ createRuntime: [{ path: '/nonexistent/hook' }] })).b;
    const h = s.cli.create(host.id, host.dir);
    expect(h.code).toBe(1);
    // runc: "fork/exec /nonexistent/hook: no such file or directory".
    expect(errorMessage(h)).toMatch(s.cli.flavor === 'tsrun' ? /^error running createRuntime hook #0: \/nonexistent\/hook: could not run: ENOENT \(no such file or directory\)$/ : /no such file or directory/);
    expect(isEmpty(s.leftovers())).toBe(true);
  });

  test('a runtime hook\'s stdout and stderr are pipes it can reopen by name, as runc\'s: what it writes to /dev/stdout and /dev/stderr is in the error', () => {
    const { b } = hookBundle(() => ({ prestart: [{ path: '/bin/sh', args: ['sh', '-c', 'echo x > /dev/stderr; echo y > /dev/stdout; exit 3'] }] }));
    const r = s.cli.create(b.id, b.dir);
    expect(r.code).toBe(1);
    expect(errorMessage(r)).toMatch(/exit status 3, stdout: y\n, stderr: x\n$/);
    expect(isEmpty(s.leftovers())).toBe(true);
  });

  test('a runtime hook without a #! line is not handed to a shell: create fails with ENOEXEC (runc: exec format error)', () => {
    const { b, dir } = hookBundle((d) => {
      const script = path.join(d, 'no-interpreter-line');
      fs.writeFileSync(script, `echo ran > ${d}/ran\n`, { mode: 0o755 });
      return { prestart: [{ path: script }] };
    });
    const r = s.cli.create(b.id, b.dir);
    expect(r.code).toBe(1);
    expect(errorMessage(r)).toMatch(s.cli.flavor === 'tsrun' ? /^error running prestart hook #0: \/.*\/no-interpreter-line: could not run: ENOEXEC \(exec format error\)$/ : /exec format error/);
    expect(fs.existsSync(path.join(dir, 'ran'))).toBe(false);
    expect(isEmpty(s.leftovers())).toBe(true);
  });

  test('a runtime hook gets fds 0-2 only: an fd the runtime\'s caller left open without close-on-exec does not reach it', () => {
    // ls lists its own fds (3: the directory it reads), then fails on the second path:
    // its output is in the error.
    const { b, dir } = hookBundle(() => ({ prestart: [{ path: '/bin/ls', args: ['ls', '-l', '/proc/self/fd/', '/nonexistent'] }] }));
    const held = path.join(dir, 'held-by-the-caller');
    const fd = fs.openSync(held, 'w');
    let r;
    try {
      // fd 19 of the runtime: given by the caller, without close-on-exec.
      const stdio: ('ignore' | 'pipe' | number)[] = ['ignore', 'pipe', 'pipe', ...Array<'ignore'>(16).fill('ignore'), fd];
      r = spawnSync(BINARY, s.cli.fullArgs(['create', '--bundle', b.dir, b.id]), { stdio, encoding: 'utf8', timeout: 30_000 });
    } finally {
      fs.closeSync(fd);
    }
    expect(r.status).toBe(1);
    const fds = r.stderr.split('\\n').filter((l) => / -> /.test(l)).map((l) => l.replace(/^.* (\d+) -> (.*)$/, '$1'));
    expect(fds).toEqual(['0', '1', '2', '3']);
    expect(r.stderr).not.toContain(held);
    expect(isEmpty(s.leftovers())).toBe(true);
  });

  test('a runtime hook\'s env is passed as Go\'s exec passes runc\'s: a name given twice once, where it came last; an entry without "=" kept', () => {
    const env = ['FOO', 'A=1', 'B=2', 'A=3', '=x', 'C=', '=', 'D==e'];
    const { b, dir } = hookBundle((d) => ({ prestart: [{ path: '/bin/sh', args: ['sh', '-c', `cat < /proc/self/environ > ${d}/env`], env }] }));
    expectOk(s.cli.create(b.id, b.dir));
    expect(nulList(read(dir, 'env'))).toEqual(['FOO', 'B=2', 'A=3', 'C=', '=', 'D==e']);
    expectOk(s.cli.delete(b.id, true));
  });

  test('a runtime hook with a timeout of days is not cut short (a wait of 2^32 ms wrapped), and what a failing one wrote is cut to its last 16 KiB', () => {
    // 4294968 s: over 2^32 ms; the wait once wrapped to ~0.7 s.
    const { b } = hookBundle(() => ({ prestart: [{ path: '/bin/sh', args: ['sh', '-c', 'sleep 1.2'], timeout: 4294968 }] }));
    expectOk(s.cli.create(b.id, b.dir));
    expectOk(s.cli.delete(b.id, true));
    const loud = hookBundle(() => ({ prestart: [{ path: '/bin/sh', args: ['sh', '-c', 'i=0; while [ $i -lt 3000 ]; do echo "line $i of many"; i=$((i+1)); done; echo last; exit 4'] }] })).b;
    const r = s.cli.create(loud.id, loud.dir);
    expect(r.code).toBe(1);
    const message = errorMessage(r);
    if (s.cli.flavor === 'tsrun') {
      expect(message).toMatch(/^error running prestart hook #0: \/bin\/sh: exit status 4, stdout: \[\.\.\.\].*\nlast\n, stderr: $/s);
      expect(message.length).toBeLessThan(16384 + 200);
    } else {
      expect(message).toMatch(/\nlast\n, stderr: $/);
    }
    expect(isEmpty(s.leftovers())).toBe(true);
  });

  // runc 1.1.5 skips the poststop hooks after a failing one.
  (FLAVOR === 'runc' ? test.skip : test)('a poststop hook that cannot even be started (a NUL byte in an argument) is warned of, and the next one runs (the spec\'s rule)', () => {
    const { b, dir } = hookBundle((d) => ({
      poststop: [{ path: '/bin/sh', args: ['sh', '-c', 'echo a\u0000b'] }, { path: '/bin/sh', args: ['sh', '-c', `echo ran > ${d}/second`] }],
    }));
    expectOk(s.cli.create(b.id, b.dir));
    const r = s.cli.delete(b.id, true);
    expect(r.code).toBe(0);
    expect(read(dir, 'second')).toBe('ran\n');
    expect(r.stderr).toMatch(/level=warning msg="error running poststop hook #0: \/bin\/sh: could not run: .*NUL byte/);
    expect(isEmpty(s.leftovers())).toBe(true);
  });

  test('a failing startContainer hook stops the container before the user process runs, and start fails with its reason (runc 1.1.5: start succeeds)', async () => {
    const { b, dir } = hookBundle((d) => ({
      startContainer: [{ path: '/bin/sh', args: ['sh', '-c', `echo ran > ${IN_CONTAINER}/failed; echo the reason >&2; exit 4`] }],
      poststart: [{ path: '/bin/sh', args: ['sh', '-c', `echo poststart >> ${d}/log`] }],
      poststop: [poststopRecorder(d)],
    }));
    const stderrFile = path.join(s.env.tmp, `${b.id}.stderr`);
    expectOk(s.cli.create(b.id, b.dir, [], { stderrFile }));
    const pid = s.cli.state(b.id).pid as number;
    const start = s.cli.start(b.id);
    if (s.cli.flavor === 'tsrun') {
      // The spec: a failing startContainer hook MUST make start generate an error.
      expect({ code: start.code, stdout: start.stdout }).toEqual({ code: 1, stdout: '' });
      expect(errorMessage(start)).toBe('error running startContainer hook #0: /bin/sh: exit status 4, stdout: , stderr: the reason\n');
      // Told to start's caller, not written into the container's output.
      expect(fs.readFileSync(stderrFile, 'utf8')).toBe('');
    } else {
      // runc 1.1.5 reads the FIFO to EOF as well, but takes any bytes for success.
      expect(start.code).toBe(0);
    }
    await s.cli.waitStatus(b.id, 'stopped');
    expect(pidAlive(pid)).toBe(false);
    expect(read(dir, 'failed')).toBe('ran\n');
    expect(logOf(dir)).not.toContain('process');
    // tsrun: no poststart for a process that never ran (runc 1.1.5 ran it at create).
    if (s.cli.flavor === 'tsrun') expect(logOf(dir)).not.toContain('poststart');
    expectOk(s.cli.delete(b.id));
    expect(isEmpty(s.leftovers())).toBe(true);
  });

  (FLAVOR === 'runc' ? test.skip : test)('run: a failing startContainer hook fails run, which leaves nothing (poststop hooks still run)', () => {
    const { b, dir } = hookBundle((d) => ({
      startContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'echo the reason >&2; exit 4'] }],
      poststart: [{ path: '/bin/sh', args: ['sh', '-c', `echo poststart >> ${d}/log`] }],
      poststop: [poststopRecorder(d)],
    }));
    for (const detach of [[], ['-d']]) {
      const r = s.cli.runContainer(b.id, b.dir, detach);
      expect({ detach, code: r.code, stdout: r.stdout, message: errorMessage(r) }).toEqual({
        detach,
        code: 1,
        stdout: '',
        message: 'error running startContainer hook #0: /bin/sh: exit status 4, stdout: , stderr: the reason\n',
      });
      expect(logOf(dir)).toEqual([]);
      expect(JSON.parse(read(dir, 'poststop.stdin')).status).toBe('stopped');
      expect(isEmpty(s.leftovers())).toBe(true);
      fs.rmSync(path.join(dir, 'poststop.stdin'));
    }
  });

  test('a startContainer hook that never ends: the container stays created, kill and delete --force are not blocked; start then fails (runc: start returns 0)', async () => {
    const { b, dir } = hookBundle((d) => ({
      startContainer: [{ path: '/bin/sleep', args: ['sleep', '1000'] }],
      poststart: [{ path: '/bin/sh', args: ['sh', '-c', `echo poststart >> ${d}/log`] }],
    }), ['sleep', '1000']);
    expectOk(s.cli.create(b.id, b.dir));
    const pid = s.cli.state(b.id).pid as number;
    const start = s.cli.spawn(['start', b.id], { timeoutMs: 60_000 });
    // The hook runs: a child of the init running sleep.
    const hookRuns = (): boolean =>
      fs.readdirSync('/proc').some((p) => {
        try {
          return /^\d+$/.test(p) && fs.readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1]!.split(' ')[1] === String(pid) && fs.readFileSync(`/proc/${p}/comm`, 'utf8') === 'sleep\n';
        } catch {
          return false;
        }
      });
    await waitFor(hookRuns, 'the startContainer hook');
    // The container's process has not run yet: still created (the exec FIFO stays until
    // the exec, as with runc), and a second start is refused meanwhile (runc 1.1.5's
    // second start blocks on the FIFO until the first one's hook ends).
    expect(s.cli.state(b.id).status).toBe('created');
    if (s.cli.flavor === 'tsrun') expect(s.cli.run(['start', b.id], { timeoutMs: 20_000 }).code).toBe(1);
    // Generous timeouts only to tell a hang from an answer: never a timing assertion.
    const kill = s.cli.run(['kill', b.id, 'KILL'], { timeoutMs: 20_000 });
    expect({ timedOut: kill.timedOut, code: kill.code }).toEqual({ timedOut: false, code: 0 });
    const del = s.cli.run(['delete', '--force', b.id], { timeoutMs: 20_000 });
    expectOk(del);
    const started = await start.done;
    expect(started.timedOut).toBe(false);
    if (s.cli.flavor === 'tsrun') {
      expect(started.code).toBe(1);
      expect(errorMessage(started)).toBe("the container's init exited before it executed the container's process");
    }
    expect(pidAlive(pid)).toBe(false);
    // runc 1.1.5 ran poststart at create.
    if (s.cli.flavor === 'tsrun') expect(logOf(dir)).not.toContain('poststart');
    expect(isEmpty(s.leftovers())).toBe(true);
  });

  // A hook that SIGKILLs the process that runs it (the init: without a pid namespace
  // the init is not its namespace's pid 1, which a signal from inside cannot kill).
  (FLAVOR === 'runc' ? test.skip : test)('run: an init killed before ready (createContainer) or before its execve (startContainer) fails run; no poststart, nothing left', () => {
    const killParent = { path: '/bin/sh', args: ['sh', '-c', 'kill -9 $PPID'] };
    const cases = [
      { kind: 'createContainer', message: 'container init exited before it was ready' },
      { kind: 'startContainer', message: "the container's init exited before it executed the container's process" },
    ];
    for (const { kind, message } of cases) {
      let dir = '';
      const b = s.bundle({
        configure: (c) => {
          dir = fs.mkdtempSync(path.join(s.env.tmp, 'hookout-'));
          c.process.args = ['sh', '-c', `echo process >> ${IN_CONTAINER}/log; sleep 1000`];
          c.mounts.push({ destination: IN_CONTAINER, type: 'bind', source: dir, options: ['rbind', 'rw'] });
          c.linux.namespaces = c.linux.namespaces.filter((n: { type: string }) => n.type !== 'pid');
          c.hooks = { [kind]: [killParent], poststart: [{ path: '/bin/sh', args: ['sh', '-c', `echo poststart >> ${dir}/log`] }] };
        },
      });
      const r = s.cli.runContainer(b.id, b.dir, ['-d']);
      expect({ kind, code: r.code, timedOut: r.timedOut, message: errorMessage(r) }).toEqual({ kind, code: 1, timedOut: false, message });
      expect({ kind, log: logOf(dir) }).toEqual({ kind, log: [] });
      expect(isEmpty(s.leftovers())).toBe(true);
    }
  });

  // runc 1.1.5 runs poststart at create, before the process (runc PR #5186 of 2026 moved it to start).
  (FLAVOR === 'runc' ? test.skip : test)('start and run return after the container\'s process was exec\'d, and poststart runs after it, not meanwhile', async () => {
    // startContainer waits for a file the test writes: while it waits, neither
    // poststart nor the command's return may happen. poststart then records what
    // the container's pid is running, which must be the process, no longer the init.
    const { b, dir } = hookBundle((d) => ({
      startContainer: [{ path: '/bin/sh', args: ['sh', '-c', `echo startContainer >> ${IN_CONTAINER}/log; while [ ! -e ${IN_CONTAINER}/go ]; do sleep 0.01; done`] }],
      poststart: [{ path: '/bin/sh', args: ['sh', '-c', `pid=$(sed -n 's/.*"pid":\\([0-9]*\\).*/\\1/p'); cat /proc/$pid/comm > ${d}/poststart.comm; echo poststart >> ${d}/log`] }],
    }), ['sleep', '1000']);
    for (const command of ['start', 'run']) {
      if (command === 'start') expectOk(s.cli.create(b.id, b.dir));
      const running = s.cli.spawn(command === 'start' ? ['start', b.id] : ['run', '-d', '--bundle', b.dir, b.id]);
      let returned = false;
      void running.done.then(() => (returned = true));
      await waitFor(() => logOf(dir).includes('startContainer'), 'the startContainer hook');
      expect({ command, returned, log: logOf(dir) }).toEqual({ command, returned: false, log: ['startContainer'] });
      // The process has not been executed yet: created (the spec's definition), as
      // with runc, although start has released its lock so that kill and delete need
      // not wait for the hooks.
      if (command === 'start') expect(s.cli.state(b.id).status).toBe('created');
      fs.writeFileSync(path.join(dir, 'go'), '');
      expectOk(await running.done);
      expect({ command, log: logOf(dir), comm: read(dir, 'poststart.comm') }).toEqual({ command, log: ['startContainer', 'poststart'], comm: 'sleep\n' });
      expect(s.cli.state(b.id).status).toBe('running');
      expectOk(s.cli.kill(b.id, 'KILL'));
      await s.cli.waitStatus(b.id, 'stopped');
      expectOk(s.cli.delete(b.id));
      for (const f of ['log', 'go', 'poststart.comm']) fs.rmSync(path.join(dir, f));
    }
  });

  // runc 1.1.5 runs poststart within create, whose failure then fails create.
  (FLAVOR === 'runc' ? test.skip : test)('failing poststart and poststop hooks are warnings: the lifecycle goes on', async () => {
    const { b, dir } = hookBundle((d) => ({ poststart: [failing(d, 5)], poststop: [failing(d, 6)] }));
    expectOk(s.cli.create(b.id, b.dir));
    const start = s.cli.start(b.id);
    expect(start.code).toBe(0);
    expect(start.stderr).toContain('error running poststart hook #0: /bin/sh: exit status 5, stdout: , stderr: boom');
    await waitFor(() => logOf(dir).includes('process'), 'the process');
    expect(s.cli.state(b.id).status).toBe('running');
    expectOk(s.cli.kill(b.id, 'KILL'));
    await s.cli.waitStatus(b.id, 'stopped');
    const del = s.cli.delete(b.id);
    expect(del.code).toBe(0);
    expect(del.stderr).toContain('error running poststop hook #0: /bin/sh: exit status 6, stdout: , stderr: boom');
    expect(read(dir, 'failed')).toBe('ran\nran\n');
    expect(isEmpty(s.leftovers())).toBe(true);
  });

  (FLAVOR === 'runc' ? test.skip : test)('after a failing poststart or poststop hook the remaining ones still run, each failure a warning (runc 1.1.5 skips them)', async () => {
    const step = (dir: string, kind: string, n: number, code: number) => ({
      path: '/bin/sh',
      args: ['sh', '-c', `echo ${kind}${n} >> ${dir}/steps; echo no${n} >&2; exit ${code}`],
    });
    const { b, dir } = hookBundle((d) => ({
      poststart: [step(d, 'poststart', 0, 1), step(d, 'poststart', 1, 0), step(d, 'poststart', 2, 2), step(d, 'poststart', 3, 0)],
      poststop: [step(d, 'poststop', 0, 3), step(d, 'poststop', 1, 4), step(d, 'poststop', 2, 0)],
    }));
    expectOk(s.cli.create(b.id, b.dir));
    const start = s.cli.start(b.id);
    expect(start.code).toBe(0);
    expect(start.stderr).toContain('error running poststart hook #0: /bin/sh: exit status 1, stdout: , stderr: no0');
    expect(start.stderr).toContain('error running poststart hook #2: /bin/sh: exit status 2, stdout: , stderr: no2');
    expect(s.cli.state(b.id).status).toBe('running');
    expectOk(s.cli.kill(b.id, 'KILL'));
    await s.cli.waitStatus(b.id, 'stopped');
    const del = s.cli.delete(b.id);
    expect(del.code).toBe(0);
    expect(del.stderr).toContain('error running poststop hook #0: /bin/sh: exit status 3, stdout: , stderr: no0');
    expect(del.stderr).toContain('error running poststop hook #1: /bin/sh: exit status 4, stdout: , stderr: no1');
    expect(read(dir, 'steps').trim().split('\n')).toEqual(['poststart0', 'poststart1', 'poststart2', 'poststart3', 'poststop0', 'poststop1', 'poststop2']);
    expect(isEmpty(s.leftovers())).toBe(true);
  });

  (FLAVOR === 'runc' ? test.skip : test)('a state of any size reaches the hook whole on a pipe, root\'s or not (written while the hook reads it), past pipe-max-size too', () => {
    // The runtime's hook runner itself (dist/src), run as root and as nobody: no container needed.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-bigstate-'));
    try {
      fs.chmodSync(dir, 0o777);
      const pipeMax = Number(fs.readFileSync('/proc/sys/fs/pipe-max-size', 'utf8'));
      const cases = [
        { size: 300 * 1024, as: 'root', kind: 'pipe' },
        { size: 300 * 1024, as: 'nobody', kind: 'pipe' },
        { size: pipeMax + 4096, as: 'root', kind: 'pipe' },
        { size: pipeMax + 4096, as: 'nobody', kind: 'pipe' },
      ] as const;
      for (const c of cases) {
        const label = `${c.as}-${c.size}`;
        const runner =
          `require(${JSON.stringify(path.join(repoRoot(), 'dist', 'src', 'lifecycle', 'hooks.js'))}).runHooks('prestart', ` +
          `[{ path: '/bin/sh', args: ['sh', '-c', 'readlink /proc/self/fd/0 > ${dir}/${label}.kind; cat > ${dir}/${label}.state'] }], ` +
          `{ ociVersion: '1.3.0', id: 'big', status: 'creating', pid: 1, bundle: '/', annotations: { big: 'x'.repeat(${c.size}) } });`;
        const ids = c.as === 'nobody' ? { uid: 65534, gid: 65534 } : {};
        const r = spawnSync(process.execPath, ['-e', runner], { ...ids, encoding: 'utf8', timeout: 20_000, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
        expect({ label, code: r.status, stderr: r.stderr }).toEqual({ label, code: 0, stderr: '' });
        expect({ label, kind: read(dir, `${label}.kind`).replace(/:.*/s, '') }).toEqual({ label, kind: c.kind });
        expect({ label, whole: JSON.parse(read(dir, `${label}.state`)).annotations.big === 'x'.repeat(c.size) }).toEqual({ label, whole: true });
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('create ignores SIGTERM, SIGINT and SIGHUP while a hook runs (runc catches every signal in create): the hook ends, the container is created, nothing is orphaned', async () => {
    const { b, dir } = hookBundle((d) => ({
      createRuntime: [{ path: '/bin/sh', args: ['sh', '-c', `echo $$ > ${d}/hook.pid; sleep 2; echo createRuntime >> ${d}/log`] }],
    }), ['sleep', '1000']);
    const create = s.cli.spawn(['create', '--bundle', b.dir, b.id], { timeoutMs: 60_000 });
    await waitFor(() => fs.existsSync(path.join(dir, 'hook.pid')), 'the createRuntime hook');
    for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.kill(create.pid, signal);
    const created = await create.done;
    expect({ code: created.code, signal: created.signal, log: logOf(dir) }).toEqual({ code: 0, signal: null, log: ['createRuntime'] });
    expect(s.cli.state(b.id).status).toBe('created');
    expectOk(s.cli.delete(b.id, true));
  });
});
