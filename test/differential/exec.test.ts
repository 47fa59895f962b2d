// Differential: what a process started with `exec` sees, under runc and under
// tsrun, for the same bundle. Within each runtime the exec'd process must be in
// exactly the init's namespaces; across runtimes its credentials, capabilities,
// limits and environment must match.

import * as fs from 'fs';
import { RUNC_BINARY, runtimeUnderTest } from '../helpers/runtime';
import { differentialSkipReason, describeIf, expectOk, Suite, useSuite } from '../helpers/suite';

jest.setTimeout(120_000);

const BINARY = runtimeUnderTest();


const NAMESPACES = ['ipc', 'mnt', 'net', 'pid', 'uts', 'cgroup', 'user'];
const PROBE = `grep -E '^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs|Uid|Gid|Groups):' /proc/self/status; id; pwd; ulimit -n; umask; env | sort`;

describeIf(differentialSkipReason())(`exec: runc vs ${BINARY}`, () => {
  const t = useSuite('dexec-t', BINARY);
  const r = useSuite('dexec-r', RUNC_BINARY);
  afterEach(() => {
    t.forceClean();
    r.forceClean();
  });

  /** Starts the same sleeping container under one runtime and runs the probes through exec. */
  const probe = (s: Suite, execArgs: string[]) => {
    const b = s.bundle({ configure: (c) => (c.process.args = ['sleep', '1000']) });
    expectOk(s.cli.runContainer(b.id, b.dir, ['-d']));
    const initPid = s.cli.state(b.id).pid as number;
    const ns = s.cli.run(['exec', b.id, 'sh', '-c', NAMESPACES.map((n) => `readlink /proc/self/ns/${n}`).join('; ')]);
    expectOk(ns);
    const view = s.cli.run(['exec', ...execArgs, b.id, 'sh', '-c', PROBE]);
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
});
