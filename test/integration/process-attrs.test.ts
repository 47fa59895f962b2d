// Process attributes applied by the init: personality, I/O priority, scheduler,
// rlimits that cannot be applied, and the LSM fields on a host without that LSM.
// runc 1.1.5 ignores personality, ioPriority and scheduler (it predates them), so
// these are checked against the kernel's own view, not against runc.

import * as fs from 'fs';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { runtimeUnderTest, flavorOf } from '../helpers/runtime';
import { containerSkipReason, describeIf, expectOk, useSuite } from '../helpers/suite';
import { isEmpty } from '../helpers/cleanup';
import type { Spec } from '../helpers/bundle';

jest.setTimeout(60_000);

const BINARY = runtimeUnderTest();
const FLAVOR = flavorOf(BINARY);

function hostHas(lsm: string): boolean {
  try {
    return fs.readFileSync('/sys/kernel/security/lsm', 'utf8').split(',').includes(lsm);
  } catch {
    return lsm === 'apparmor' ? fs.existsSync('/sys/module/apparmor/parameters/enabled') : fs.existsSync('/sys/fs/selinux/enforce');
  }
}

describeIf(containerSkipReason())(`process attributes (${BINARY})`, () => {
  const s = useSuite('pattrs', BINARY);
  afterEach(() => {
    s.forceClean();
  });

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const run = (script: string, configure: (c: any) => void) => {
    const b = s.bundle({
      configure: (c) => {
        c.process.args = ['sh', '-c', script];
        configure(c);
      },
    });
    for (const applet of ['ionice']) fs.symlinkSync('busybox', path.join(b.rootfs, 'bin', applet));
    return s.cli.runContainer(b.id, b.dir);
  };

  test('stdin that is the host\'s /dev/null (what dockerd gives a detached container without -i) is the container\'s own, read-write; not with a /dev bound from the host (runc)', async () => {
    // Detached, the container gets the runtime's stdin: the test runner gives /dev/null, read-only.
    const script = '{ grep ^flags /proc/self/fdinfo/0; echo x >&0 && echo wrote; mnt=$(sed -n "s/^mnt_id:\\t*//p" /proc/self/fdinfo/0); grep -c "^$mnt " /proc/self/mountinfo; } > /result 2>&1';
    const detached = async (configure: (c: Spec) => void): Promise<string> => {
      const b = s.bundle({
        configure: (c) => {
          c.process!.args = ['sh', '-c', script];
          c.root!.readonly = false;
          configure(c);
        },
      });
      expectOk(s.cli.runContainer(b.id, b.dir, ['-d']));
      await s.cli.waitStatus(b.id, 'stopped');
      expectOk(s.cli.delete(b.id));
      return fs.readFileSync(path.join(b.rootfs, 'result'), 'utf8');
    };
    expect(await detached(() => undefined)).toBe('flags:\t0100002\nwrote\n1\n');
    expect((await detached((c) => c.mounts!.push({ destination: '/dev', type: 'bind', source: '/dev', options: ['rbind'] }))).split('\n')[0]).toBe('flags:\t0100000');
  });

  (FLAVOR === 'runc' ? describe.skip : describe)('applied (runc 1.1.5 ignores these fields)', () => {
    test('linux.personality LINUX32', () => {
      const r = run('uname -m; cat /proc/self/personality', (c) => (c.linux.personality = { domain: 'LINUX32' }));
      expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 0, stdout: 'i686\n00000008\n', stderr: '' });
    });

    test('linux.personality LINUX32 applies to an exec\'d process too (runc 1.2)', () => {
      const b = s.bundle({
        configure: (c) => {
          c.process.args = ['sleep', '30'];
          c.linux.personality = { domain: 'LINUX32' };
        },
      });
      expectOk(s.cli.runContainer(b.id, b.dir, ['-d']));
      const e = s.cli.run(['exec', b.id, 'sh', '-c', 'uname -m; cat /proc/self/personality']);
      expect({ code: e.code, stdout: e.stdout, stderr: e.stderr }).toEqual({ code: 0, stdout: 'i686\n00000008\n', stderr: '' });
      expectOk(s.cli.delete(b.id, true));
    });

    test('process.ioPriority', () => {
      const r = run('ionice -p $$', (c) => (c.process.ioPriority = { class: 'IOPRIO_CLASS_BE', priority: 3 }));
      expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 0, stdout: 'best-effort: prio 3\n', stderr: '' });
    });

    test('process.ioPriority without a priority is 0 of its class, as runc reads it (the spec\'s schema requires only the class)', () => {
      const r = run('ionice -p $$', (c) => (c.process.ioPriority = { class: 'IOPRIO_CLASS_BE' }));
      expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 0, stdout: 'best-effort: prio 0\n', stderr: '' });
    });

    test('process.scheduler SCHED_BATCH with a nice value', () => {
      // /proc/<pid>/stat: field 19 is the nice value, 41 the policy (SCHED_BATCH = 3).
      const r = run("cut -d' ' -f19,41 /proc/$$/stat", (c) => (c.process.scheduler = { policy: 'SCHED_BATCH', nice: 5 }));
      expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 0, stdout: '5 3\n', stderr: '' });
    });

    test('process.scheduler SCHED_IDLE', () => {
      const r = run("cut -d' ' -f41 /proc/$$/stat", (c) => (c.process.scheduler = { policy: 'SCHED_IDLE' }));
      expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 0, stdout: '5\n' });
    });
  });

  // RLIMIT_FSIZE: raising it to unlimited needs no privilege where the host's is unlimited.
  const hostFsizeUnlimited = spawnSync('sh', ['-c', 'ulimit -H -f'], { encoding: 'utf8' }).stdout.trim() === 'unlimited';
  (hostFsizeUnlimited ? test : test.skip)("an rlimit of 18446744073709551615 (RLIM_INFINITY, Docker's unlimited) is unlimited, as in runc", () => {
    const b = s.bundle({
      configure: (c) => {
        c.process.args = ['sh', '-c', 'ulimit -H -f; ulimit -S -f'];
        c.process.rlimits = [{ type: 'RLIMIT_FSIZE', soft: '#18446744073709551615', hard: '#18446744073709551615' }];
      },
    });
    // JSON.stringify cannot write the literal; JSON.parse alone would read 2^64.
    fs.writeFileSync(b.configPath, fs.readFileSync(b.configPath, 'utf8').replace(/"#(\d+)"/g, '$1'));
    const r = s.cli.runContainer(b.id, b.dir);
    expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 0, stdout: 'unlimited\nunlimited\n', stderr: '' });
  });

  (FLAVOR === 'runc' ? describe.skip : describe)('limits that leave the init no free fd', () => {
    test('RLIMIT_NOFILE soft 0: the container still starts and sees its limit', () => {
      const r = run('ulimit -n; echo started', (c) => (c.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 0, hard: 1024 }]));
      expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 0, stdout: '0\nstarted\n', stderr: '' });
    });
  });

  describe('bad input: exit 1 naming the field, nothing left behind', () => {
    const fails = (configure: (c: any) => void, phrase: RegExp) => {
      const r = run('true', configure);
      expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 1, stdout: '' });
      expect(r.stderr).toMatch(phrase);
      expect(isEmpty(s.forceClean())).toBe(true);
    };

    test('an rlimit whose soft limit is above its hard limit', () => {
      fails((c) => (c.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 2048, hard: 1024 }]),
        FLAVOR === 'runc' ? /rlimit/ : /process\.rlimits\[0\]: soft limit 2048 is above hard limit 1024/);
    });

    test('an rlimit above what the host allows', () => {
      // Even root cannot raise RLIMIT_NOFILE above fs.nr_open.
      const nrOpen = Number(fs.readFileSync('/proc/sys/fs/nr_open', 'utf8'));
      fails((c) => (c.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: nrOpen + 1 }]),
        FLAVOR === 'runc' ? /rlimit/ : /rlimit 7: setrlimit: EPERM/);
    });

    (hostHas('apparmor') ? test.skip : test)('apparmorProfile on a host without AppArmor', () => {
      fails((c) => (c.process.apparmorProfile = 'docker-default'),
        FLAVOR === 'runc' ? /apparmor/ : /process\.apparmorProfile: apparmor profile is specified in config, but apparmor is disabled or not supported/);
    });

    (hostHas('selinux') ? test.skip : test)('selinuxLabel and mountLabel on a host without SELinux', () => {
      fails((c) => (c.process.selinuxLabel = 'system_u:system_r:container_t:s0'),
        /selinux label is specified in config, but selinux is disabled or not supported/);
      fails((c) => (c.linux.mountLabel = 'system_u:object_r:container_file_t:s0'),
        FLAVOR === 'runc' ? /context=/ : /linux\.mountLabel: selinux label is specified in config, but selinux is disabled or not supported/);
    });

    (FLAVOR === 'runc' ? test.skip : test)('an unknown personality flag, a bad I/O priority, a bad scheduler', () => {
      fails((c) => (c.linux.personality = { domain: 'LINUX', flags: ['SOMETHING'] }), /not supported yet: linux\.personality\.flags/);
      fails((c) => (c.process.scheduler = { policy: 'SCHED_FIFO', priority: 0 }), /process\.scheduler\.priority/);
      fails((c) => (c.process.scheduler = { policy: 'SCHED_DEADLINE', runtime: 10, deadline: 5 }), /process\.scheduler: SCHED_DEADLINE/);
    });
  });
});
