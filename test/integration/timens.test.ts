// Time namespaces: created with linux.timeOffsets (written by tsrun before the init
// enters the namespace), joined by path, and joined again by exec.

import { spawn } from 'child_process';
import * as fs from 'fs';
import { runtimeUnderTest } from '../helpers/runtime';
import { containerSkipReason, describeIf, expectOk, useSuite } from '../helpers/suite';

jest.setTimeout(60_000);

const BINARY = runtimeUnderTest();
const TEN_DAYS = 864_000;
const timeNsSupported = fs.existsSync('/proc/self/ns/time');

describeIf(containerSkipReason() ?? (timeNsSupported ? undefined : 'no time namespaces in this kernel'))(`time namespaces (${BINARY})`, () => {
  const s = useSuite('timens', BINARY);
  afterEach(() => {
    s.forceClean();
  });

  const uptimeScript = 'cut -d" " -f1 /proc/uptime; cat /proc/self/timens_offsets';

  test('a new time namespace gets its offsets before the init enters it', () => {
    const b = s.bundle({
      configure: (c) => {
        c.process!.args = ['sh', '-c', uptimeScript];
        c.linux!.namespaces!.push({ type: 'time' });
        c.linux!.timeOffsets = { boottime: { secs: TEN_DAYS }, monotonic: { secs: 3600, nanosecs: 5 } };
      },
    });
    const r = s.cli.runContainer(b.id, b.dir);
    expect(r.code).toBe(0);
    const [uptime, ...offsets] = r.stdout.trim().split('\n');
    expect(Number(uptime)).toBeGreaterThanOrEqual(TEN_DAYS);
    expect(offsets.map((l) => l.trim().split(/\s+/))).toEqual(expect.arrayContaining([
      ['monotonic', '3600', '5'],
      ['boottime', String(TEN_DAYS), '0'],
    ]));
  });

  test('exec joins the container\'s time namespace', () => {
    const b = s.bundle({
      configure: (c) => {
        c.process!.args = ['sleep', '30'];
        c.linux!.namespaces!.push({ type: 'time' });
        c.linux!.timeOffsets = { boottime: { secs: TEN_DAYS } };
      },
    });
    expectOk(s.cli.create(b.id, b.dir));
    expectOk(s.cli.start(b.id));
    const r = s.cli.run(['exec', b.id, 'cut', '-d', ' ', '-f1', '/proc/uptime']);
    expect(r.code).toBe(0);
    expect(Number(r.stdout.trim())).toBeGreaterThanOrEqual(TEN_DAYS);
    expectOk(s.cli.delete(b.id, true));
  });

  test('a time namespace joined by path', async () => {
    // A namespace made by unshare(1) with its own boottime offset, held by a sleep.
    const holder = spawn('unshare', ['--time', `--boottime=${TEN_DAYS}`, '--fork', '--kill-child', 'sleep', '60'], { stdio: 'ignore' });
    try {
      let nsPath = '';
      for (let i = 0; i < 200 && !nsPath; i++) {
        const kids = fs.existsSync(`/proc/${holder.pid}/task/${holder.pid}/children`)
          ? fs.readFileSync(`/proc/${holder.pid}/task/${holder.pid}/children`, 'utf8').trim()
          : '';
        if (kids) nsPath = `/proc/${kids.split(' ')[0]}/ns/time`;
        else await new Promise((res) => setTimeout(res, 10));
      }
      expect(nsPath).not.toBe('');
      const b = s.bundle({
        configure: (c) => {
          c.process!.args = ['sh', '-c', 'cut -d" " -f1 /proc/uptime'];
          c.linux!.namespaces!.push({ type: 'time', path: nsPath });
        },
      });
      const r = s.cli.runContainer(b.id, b.dir);
      expect(r.code).toBe(0);
      expect(Number(r.stdout.trim())).toBeGreaterThanOrEqual(TEN_DAYS);
    } finally {
      holder.kill('SIGKILL');
    }
  });

  test('timeOffsets without a new time namespace: exit 1 naming the field, nothing left', () => {
    const b = s.bundle({ configure: (c) => (c.linux!.timeOffsets = { boottime: { secs: 5 } }) });
    const r = s.cli.runContainer(b.id, b.dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/linux.timeOffsets/);
    expect(s.cli.stateRaw(b.id).code).not.toBe(0);
  });

  test.each([
    ['nanoseconds of a second or more', { monotonic: { secs: 1, nanosecs: 1_000_000_000 } }, /linux\.timeOffsets\.monotonic\.nanosecs: must be below 1000000000/],
    ['a boottime before the boot', { boottime: { secs: -99_999_999 } }, /linux\.timeOffsets: write \/proc\/\d+\/timens_offsets: ERANGE \(an offset takes its clock out of range\)/],
  ])('offsets the kernel refuses (%s): exit 1 naming the field, nothing left', (_name, timeOffsets, message) => {
    const b = s.bundle({
      configure: (c) => {
        c.linux!.namespaces!.push({ type: 'time' });
        c.linux!.timeOffsets = timeOffsets;
      },
    });
    const r = s.cli.runContainer(b.id, b.dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(s.cli.stateRaw(b.id).code).not.toBe(0);
  });
});
