// Differential: what a process started with `exec` sees, under runc and under
// tsrun, for the same bundle. Within each runtime the exec'd process must be in
// exactly the init's namespaces; across runtimes its credentials, capabilities,
// limits and environment must match.

import * as fs from 'fs';
import * as path from 'path';
import { RUNC_BINARY, runtimeUnderTest } from '../helpers/runtime';
import { differentialSkipReason, describeIf, expectOk, Suite, useSuite } from '../helpers/suite';

jest.setTimeout(120_000);

const BINARY = runtimeUnderTest();


const NAMESPACES = ['ipc', 'mnt', 'net', 'pid', 'uts', 'cgroup', 'user'];
const PROBE = `grep -E '^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs|Uid|Gid|Groups):' /proc/self/status; id; pwd; ulimit -n; umask; cat /proc/self/oom_score_adj; env | sort`;

describeIf(differentialSkipReason())(`exec: runc vs ${BINARY}`, () => {
  const t = useSuite('dexec-t', BINARY);
  const r = useSuite('dexec-r', RUNC_BINARY);
  afterEach(() => {
    t.forceClean();
    r.forceClean();
  });

  /**
   * Starts the same sleeping container under one runtime and runs the probes through
   * exec: with `execArgs`, or with a process.json of `processFile` plus the probe.
   */
  const probe = (s: Suite, execArgs: string[], processFile?: object) => {
    const b = s.bundle({
      configure: (c) => {
        c.process.args = ['sleep', '1000'];
        c.process.oomScoreAdj = 100;
      },
    });
    expectOk(s.cli.runContainer(b.id, b.dir, ['-d']));
    const initPid = s.cli.state(b.id).pid as number;
    const ns = s.cli.run(['exec', b.id, 'sh', '-c', NAMESPACES.map((n) => `readlink /proc/self/ns/${n}`).join('; ')]);
    expectOk(ns);
    let args = [...execArgs, b.id, 'sh', '-c', PROBE];
    if (processFile) {
      const file = path.join(b.dir, 'process.json');
      fs.writeFileSync(file, JSON.stringify({ ...processFile, args: ['/bin/sh', '-c', PROBE] }));
      args = ['--process', file, b.id];
    }
    const view = s.cli.run(['exec', ...args]);
    expectOk(view);
    const initNs = NAMESPACES.map((n) => fs.readlinkSync(`/proc/${initPid}/ns/${n}`)).join('\n') + '\n';
    expectOk(s.cli.delete(b.id, true));
    return { ns: ns.stdout, initNs, view: view.stdout };
  };

  test.each([
    ['no flags', []],
    ['user, groups, cwd, env, caps', ['-u', '1000:1000', '-g', '100', '--cwd', '/tmp', '-e', 'A=b', '-e', 'TERM=dumb', '--cap', 'CAP_SYS_ADMIN']],
    ['no-new-privs', ['--no-new-privs']],
  ])('%s', (_name, args) => {
    const tv = probe(t, args as string[]);
    const rv = probe(r, args as string[]);
    expect(tv.ns).toBe(tv.initNs);
    expect(rv.ns).toBe(rv.initNs);
    expect(tv.view).toBe(rv.view);
  });

  // The container has runc spec's capabilities, noNewPrivileges and RLIMIT_NOFILE, and
  // an oomScoreAdj: runc 1.1.5 gives a process.json the container's capabilities when
  // it has none, and the container's oomScoreAdj always; not its noNewPrivileges or
  // rlimits.
  test.each([
    ['process.json without capabilities, noNewPrivileges, rlimits, oomScoreAdj', { cwd: '/', user: { uid: 0, gid: 0 } }],
    ['process.json with empty capabilities and its own oomScoreAdj', { cwd: '/tmp', user: { uid: 0, gid: 0 }, capabilities: {}, oomScoreAdj: 300 }],
    ['process.json with capabilities of its own and noNewPrivileges', {
      cwd: '/', user: { uid: 1000, gid: 1000 }, noNewPrivileges: true, env: ['PATH=/bin'],
      capabilities: { bounding: ['CAP_CHOWN'], effective: ['CAP_CHOWN'], permitted: ['CAP_CHOWN'] },
    }],
  ])('%s', (_name, processFile) => {
    const tv = probe(t, [], processFile);
    const rv = probe(r, [], processFile);
    expect(tv.view).toBe(rv.view);
  });
});
