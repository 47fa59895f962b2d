// Hardening (DESIGN.md section 3), each rule proven from inside a container: no fd of
// the runtime reaches it, procfs writes go only into a real procfs, masked /proc
// entries stay masked, and a rootfs symlink cannot send a mount out of the rootfs.

import * as fs from 'fs';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { runtimeUnderTest, flavorOf } from '../helpers/runtime';
import { containerSkipReason, describeIf, useSuite } from '../helpers/suite';

jest.setTimeout(60_000);

const BINARY = runtimeUnderTest();
const FLAVOR = flavorOf(BINARY);

describeIf(containerSkipReason())(`hardening (${BINARY})`, () => {
  const s = useSuite('harden', BINARY);
  afterEach(() => {
    s.forceClean();
  });

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const bundle = (script: string, configure?: (c: any) => void) =>
    s.bundle({
      configure: (c) => {
        c.process.args = ['sh', '-c', script];
        configure?.(c);
      },
    });

  test('no fd of the runtime reaches the container, whatever the runtime inherited', () => {
    // Not the last command: busybox sh would exec ls in place and list ls's own fds.
    const b = bundle('ls /proc/1/fd; echo end');
    const out = path.join(s.env.tmp, 'fds.out');
    const outFd = fs.openSync(out, 'w');
    const extra = fs.openSync(b.configPath, 'r');
    try {
      // fds 3, 4 (pipes) and 5 (a file) are open in the runtime without CLOEXEC.
      const r = spawnSync(BINARY, ['--root', s.cli.root, 'run', '--bundle', b.dir, b.id], {
        stdio: ['ignore', outFd, 'pipe', 'pipe', 'pipe', extra],
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    } finally {
      fs.closeSync(outFd);
      fs.closeSync(extra);
    }
    expect(fs.readFileSync(out, 'utf8')).toBe('0\n1\n2\nend\n');
  });

  test('masked /proc entries stay masked and cannot be unmounted', () => {
    const b = bundle('cat /proc/kcore | wc -c; cat /proc/keys | wc -c; umount /proc/kcore 2>/dev/null || echo umount-denied; cat /proc/kcore | wc -c');
    const r = s.cli.runContainer(b.id, b.dir);
    expect({ code: r.code, stdout: r.stdout.replace(/ +/g, '') }).toEqual({ code: 0, stdout: '0\n0\numount-denied\n0\n' });
  });

  test('a rootfs symlink cannot redirect a mount out of the rootfs', () => {
    const outside = fs.mkdtempSync(path.join(s.env.tmp, 'outside-'));
    const b = bundle('echo escaped > /evil/marker && ls /evil', (c) => {
      c.root.readonly = false;
      c.mounts.push({ destination: '/evil', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] });
    });
    // An absolute symlink naming a host directory: resolved inside the rootfs instead.
    fs.symlinkSync(outside, path.join(b.rootfs, 'evil'));
    const r = s.cli.runContainer(b.id, b.dir);
    expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 0, stdout: 'marker\n' });
    expect(fs.readdirSync(outside)).toEqual([]);
    const mounts = fs.readFileSync('/proc/self/mountinfo', 'utf8');
    expect(mounts.includes(outside)).toBe(false);
  });

  (FLAVOR === 'runc' ? test.skip : test)('oom_score_adj is written only into a real procfs', () => {
    // A config that bind-mounts a plain directory on /proc: a runtime that trusted the
    // path would write the container's oom_score_adj into this host file.
    const fake = fs.mkdtempSync(path.join(s.env.tmp, 'fakeproc-'));
    fs.mkdirSync(path.join(fake, 'self'));
    fs.writeFileSync(path.join(fake, 'self', 'oom_score_adj'), 'untouched');
    const b = bundle('true', (c) => {
      c.root.readonly = false;
      c.linux.maskedPaths = [];
      c.linux.readonlyPaths = [];
      c.process.oomScoreAdj = 500;
      c.mounts = c.mounts.map((m: { destination: string }) =>
        m.destination === '/proc' ? { destination: '/proc', type: 'bind', source: fake, options: ['rbind'] } : m);
    });
    const r = s.cli.runContainer(b.id, b.dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/oom_score_adj 500: \/proc\/self\/oom_score_adj is not on procfs/);
    expect(fs.readFileSync(path.join(fake, 'self', 'oom_score_adj'), 'utf8')).toBe('untouched');
  });
});
