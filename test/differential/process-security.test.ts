// Differential, process security: the same bundle under runc and under tsrun gives
// the container the same privileges and limits -- capability, NoNewPrivs and seccomp
// lines of /proc/self/status, every rlimit (/proc/self/limits), oom_score_adj, and
// what seccomp rules do to syscalls.

import * as fs from 'fs';
import { Spec } from '../helpers/bundle';
import { dockerDefaultProfile } from '../helpers/docker-seccomp';
import { RUNC_BINARY, runtimeUnderTest } from '../helpers/runtime';
import { differentialSkipReason, describeIf, Suite, useSuite } from '../helpers/suite';

jest.setTimeout(120_000);

const BINARY = runtimeUnderTest();


const PROBE = [
  `grep -E '^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs|Seccomp|Seccomp_filters|Uid|Gid):' /proc/self/status`,
  'cat /proc/self/limits',
  'echo oom=$(cat /proc/self/oom_score_adj)',
  'mkdir /tmp/m 2>&1; echo mkdir=$?',
  'linux32 true 2>&1; echo linux32=$?',
  'mount -t tmpfs none /mnt 2>&1; echo mount=$?',
].join('; ');

const ALL_RLIMITS = [
  ['RLIMIT_CPU', 100, 200], ['RLIMIT_FSIZE', 1 << 30, 1 << 30], ['RLIMIT_DATA', 1 << 30, 2 ** 31],
  ['RLIMIT_STACK', 8 << 20, 16 << 20], ['RLIMIT_CORE', 0, 1 << 20], ['RLIMIT_RSS', 1 << 29, 1 << 30],
  ['RLIMIT_NPROC', 300, 400], ['RLIMIT_NOFILE', 500, 600], ['RLIMIT_MEMLOCK', 1 << 16, 1 << 17],
  ['RLIMIT_AS', 2 ** 33, 2 ** 34], ['RLIMIT_LOCKS', 10, 20], ['RLIMIT_SIGPENDING', 100, 200],
  ['RLIMIT_MSGQUEUE', 4096, 8192], ['RLIMIT_NICE', 0, 0], ['RLIMIT_RTPRIO', 0, 0], ['RLIMIT_RTTIME', 100000, 200000],
] as const;

const CONFIGS: [string, (c: Spec) => void][] = [
  ['errno rule, no_new_privs', (c) => {
    c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 18 }] };
  }],
  ["Docker's default profile, no_new_privs", (c) => (c.linux.seccomp = dockerDefaultProfile())],
  ["Docker's default profile without no_new_privs, more capabilities", (c) => {
    c.linux.seccomp = dockerDefaultProfile();
    c.process.noNewPrivileges = false;
    const caps = ['CAP_CHOWN', 'CAP_KILL', 'CAP_SETUID', 'CAP_SETGID', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_ADMIN'];
    c.process.capabilities = { bounding: caps, effective: caps, permitted: caps, inheritable: [], ambient: [] };
  }],
  ['personality argument filter, non-root user', (c) => {
    c.process.user = { uid: 1000, gid: 1000 };
    c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'], syscalls: [
      { names: ['personality'], action: 'SCMP_ACT_ERRNO', errnoRet: 95, args: [{ index: 0, value: 8, op: 'SCMP_CMP_EQ' }] }] };
  }],
  ['every rlimit and oomScoreAdj', (c) => {
    c.process.rlimits = ALL_RLIMITS.map(([type, soft, hard]) => ({ type, soft, hard }));
    c.process.oomScoreAdj = 321;
  }],
];

describeIf(differentialSkipReason())(`differential process security: runc vs ${BINARY}`, () => {
  const t = useSuite('psec-t', BINARY);
  const r = useSuite('psec-r', RUNC_BINARY);

  const probe = (s: Suite, configure: (c: Spec) => void) => {
    const b = s.bundle({
      configure: (c) => {
        c.root.readonly = false;
        configure(c);
        c.process.args = ['sh', '-c', PROBE];
      },
    });
    fs.symlinkSync('busybox', `${b.rootfs}/bin/linux32`);
    const res = s.cli.runContainer(b.id, b.dir);
    return { code: res.code, stdout: res.stdout, stderr: res.stderr.replace(/^time="[^"]*" /gm, "") };
  };

  test.each(CONFIGS)('%s', (_name, configure) => {
    const runc = probe(r, configure);
    const tsrun = probe(t, configure);
    expect({ code: runc.code, stderr: runc.stderr }).toEqual({ code: 0, stderr: '' });
    expect(tsrun).toEqual(runc);
  });

  test('capability names the kernel does not know (cap_sys_admin, SYS_ADMIN, CAP_BOGUS) are ignored with a warning: the same sets as runc', () => {
    const odd = (c: Spec): void => {
      for (const set of ['bounding', 'effective', 'permitted'] as const) c.process.capabilities[set].push('cap_sys_admin', 'SYS_ADMIN', 'CAP_BOGUS');
    };
    const runc = probe(r, odd);
    const tsrun = probe(t, odd);
    expect({ code: tsrun.code, stdout: tsrun.stdout }).toEqual({ code: runc.code, stdout: runc.stdout });
    expect(runc.code).toBe(0);
    for (const name of ['cap_sys_admin', 'SYS_ADMIN', 'CAP_BOGUS']) expect({ runc: runc.stderr.includes(name), tsrun: tsrun.stderr.includes(name) }).toEqual({ runc: true, tsrun: true });
  });
});
