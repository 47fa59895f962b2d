// containerSeccomp (src/lifecycle/seccomp.ts) with the kernel's SPEC_ALLOW probe
// faked: the probe's answer is part of a cache entry's key, and a probe that fails
// comes after the profile's own errors and leaves nothing kept. The rest of the
// addon is the real one (libseccomp builds the programs).
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type * as SeccompModule from '../../src/lifecycle/seccomp';
import type { AddonModule } from '../../src/native';

const SPEC_ALLOW = 4;

describe('a container\'s seccomp profile and the kernel\'s SPEC_ALLOW probe', () => {
  let root: string;
  let probe: () => boolean;
  let probes = 0;
  let containerSeccomp: typeof SeccompModule.containerSeccomp;

  beforeAll(() => {
    const real = { exports: {} as AddonModule };
    process.dlopen(real, path.join(__dirname, '..', '..', '..', 'build', 'Release', 'tsrun_native.node'));
    // src/native.ts takes the addon bin/tsrun hands over; loaded after this is set.
    (globalThis as { __tsrunAddon?: unknown }).__tsrunAddon = {
      ...Object.fromEntries(real.exports.functionNames().map((name) => [name, real.exports.functionNamed(name)])),
      seccompFilterFlagsSupported: (flags: number): boolean => {
        expect(flags).toBe(SPEC_ALLOW);
        probes++;
        return probe();
      },
    };
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    ({ containerSeccomp } = require('../../src/lifecycle/seccomp') as typeof SeccompModule);
  });
  afterAll(() => {
    delete (globalThis as { __tsrunAddon?: unknown }).__tsrunAddon;
  });
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-seccomp-probe-'));
    probes = 0;
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  const entries = () => (fs.existsSync(path.join(root, '~seccomp-cache')) ? fs.readdirSync(path.join(root, '~seccomp-cache')) : []);
  const profile = () => ({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['kexec_load'], action: 'SCMP_ACT_ERRNO' }] });

  test('its answer is part of an entry\'s key: another answer, another entry with its own flags', () => {
    probe = () => true;
    expect(containerSeccomp(profile(), false, root)?.program.flags).toBe(SPEC_ALLOW);
    expect(containerSeccomp(profile(), false, root)?.program.flags).toBe(SPEC_ALLOW);
    expect(entries()).toHaveLength(1);
    probe = () => false;
    expect(containerSeccomp(profile(), false, root)?.program.flags).toBe(0);
    expect(entries()).toHaveLength(2);
  });

  test('asked only for a profile without flags', () => {
    probe = () => true;
    expect(containerSeccomp({ ...profile(), flags: [] }, false, root)?.program.flags).toBe(0);
    expect(probes).toBe(0);
  });

  test('a probe that fails: the profile\'s own error first; a valid profile gets the probe\'s error, and nothing is kept', () => {
    probe = () => {
      throw Object.assign(new Error('seccomp: SECCOMP_SET_MODE_FILTER probe: EPERM'), { code: 'EPERM', syscall: 'seccomp' });
    };
    expect(() => containerSeccomp({ ...profile(), defaultAction: 'SCMP_ACT_NONE' }, false, root)).toThrow(/unknown seccomp action "SCMP_ACT_NONE"/);
    expect(() => containerSeccomp(profile(), false, root)).toThrow(/SECCOMP_SET_MODE_FILTER probe: EPERM/);
    expect(entries()).toEqual([]);
  });
});
