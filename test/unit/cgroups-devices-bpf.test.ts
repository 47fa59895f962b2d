// The cgroup v2 device program, checked by running it: a small interpreter for the
// opcodes the planner emits executes the program for a table of devices and
// accesses, and the verdicts are compared with the rules' expected meaning.
import type { DeviceCgroupRule } from '../../src/config/types';
import { DEFAULT_DEVICE_RULES, deviceLines, deviceRuleLines, effectiveDeviceRules } from '../../src/cgroups/devices';
import {
  BPF_DEVCG_ACC_MKNOD, BPF_DEVCG_ACC_READ, BPF_DEVCG_ACC_WRITE, BPF_DEVCG_DEV_BLOCK, BPF_DEVCG_DEV_CHAR,
  type BpfInsn, decodeInsns, emulateDeviceCgroup, encodeInsns, planDeviceFilter,
} from '../../src/cgroups/v2-devices-bpf';
import { ConfigError } from '../../src/errors';

const M = BPF_DEVCG_ACC_MKNOD, R = BPF_DEVCG_ACC_READ, W = BPF_DEVCG_ACC_WRITE;
const U32 = 0xffffffffn;
const U64 = (1n << 64n) - 1n;

/**
 * Runs a BPF_PROG_TYPE_CGROUP_DEVICE program over struct bpf_cgroup_dev_ctx. Knows
 * only the opcodes the planner emits and fails on anything else, on reads of unset
 * registers, on backward jumps (the verifier rejects loops) and on falling off the end.
 */
function run(prog: readonly BpfInsn[], type: 'c' | 'b', major: number, minor: number, access: number): number {
  const ctx = [((access << 16) | (type === 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK)) >>> 0, major, minor];
  const regs: (bigint | 'ctx' | undefined)[] = new Array(11).fill(undefined);
  regs[1] = 'ctx';
  const num = (r: number): bigint => {
    const v = regs[r];
    if (typeof v !== 'bigint') throw new Error(`r${r} read while ${v === undefined ? 'unset' : 'a pointer'}`);
    return v;
  };
  const imm64 = (imm: number): bigint => BigInt.asUintN(64, BigInt(imm)); // sign-extended
  for (let pc = 0; pc < prog.length; pc++) {
    const i = prog[pc];
    const jump = (taken: boolean): void => {
      if (i.off < 0) throw new Error(`backward jump at ${pc}`);
      if (taken) pc += i.off;
    };
    switch (i.code) {
      case 0x61: { // BPF_LDX | BPF_W | BPF_MEM
        if (regs[i.src] !== 'ctx' || i.off % 4 !== 0 || i.off < 0 || i.off > 8) throw new Error(`bad ctx load at ${pc}`);
        regs[i.dst] = BigInt(ctx[i.off / 4]);
        break;
      }
      case 0xbc: regs[i.dst] = num(i.src) & U32; break; // BPF_ALU | BPF_MOV | BPF_X (32-bit, zero-extends)
      case 0x74: regs[i.dst] = (num(i.dst) & U32) >> BigInt(i.imm); break; // BPF_ALU | BPF_RSH | BPF_K
      case 0x54: regs[i.dst] = num(i.dst) & BigInt(i.imm >>> 0); break; // BPF_ALU | BPF_AND | BPF_K
      case 0xb7: regs[i.dst] = imm64(i.imm); break; // BPF_ALU64 | BPF_MOV | BPF_K
      case 0x55: jump(num(i.dst) !== imm64(i.imm)); break; // BPF_JMP | BPF_JNE | BPF_K
      case 0x5d: jump(num(i.dst) !== num(i.src)); break; // BPF_JMP | BPF_JNE | BPF_X
      case 0x15: jump(num(i.dst) === imm64(i.imm)); break; // BPF_JMP | BPF_JEQ | BPF_K
      case 0x95: { // BPF_JMP | BPF_EXIT
        const r0 = num(0) & U64;
        if (r0 !== 0n && r0 !== 1n) throw new Error(`returns ${r0}`);
        return Number(r0);
      }
      default:
        throw new Error(`opcode 0x${i.code.toString(16)} at ${pc} not expected`);
    }
  }
  throw new Error('fell off the end of the program');
}

const ACCESSES = [M, R, W, R | W, M | R, M | W, M | R | W];
const DEVICES: [('c' | 'b'), number, number][] = [];
for (const t of ['c', 'b'] as const) {
  for (const major of [0, 1, 4, 5, 8, 10, 136, 254]) {
    for (const minor of [0, 1, 2, 3, 5, 7, 8, 9, 200, 229]) DEVICES.push([t, major, minor]);
  }
}

/**
 * The rules' meaning for lists that, after a deny-all, only allow: a request is
 * allowed when one rule of its type (or "a") and device covers every asked bit.
 * Written from the spec's wording, independent of the planner's kernel model.
 */
function allowOnlyReference(rules: readonly DeviceCgroupRule[], type: 'c' | 'b', major: number, minor: number, access: number): number {
  const bits = (a: string): number => (a.includes('m') ? M : 0) | (a.includes('r') ? R : 0) | (a.includes('w') ? W : 0);
  const any = (v: number | null | undefined, x: number): boolean => v === undefined || v === null || v === -1 || v === x;
  return rules.some((r) => r.allow && ((r.type ?? 'a') === 'a' || r.type === type) && any(r.major, major) && any(r.minor, minor) && (access & ~bits(r.access ?? '')) === 0) ? 1 : 0;
}

const denyAll: DeviceCgroupRule = { allow: false, access: 'rwm' };

describe('device program planner (run through an interpreter)', () => {
  test("runc's default list: every device x access verdict equals the allow-rule reference", () => {
    const rules = effectiveDeviceRules([denyAll]);
    const prog = planDeviceFilter(rules);
    let allowed = 0;
    for (const [t, major, minor] of DEVICES) {
      for (const a of ACCESSES) {
        const got = run(prog, t, major, minor, a);
        expect({ dev: `${t} ${major}:${minor} ${a}`, got }).toEqual({ dev: `${t} ${major}:${minor} ${a}`, got: allowOnlyReference(rules, t, major, minor, a) });
        allowed += got;
      }
    }
    expect(allowed).toBeGreaterThan(0); // the table does include allowed and denied requests
    expect(allowed).toBeLessThan(DEVICES.length * ACCESSES.length);
  });

  test('known verdicts of the default list', () => {
    const prog = planDeviceFilter(effectiveDeviceRules([denyAll]));
    expect(run(prog, 'c', 1, 3, R | W)).toBe(1); // /dev/null
    expect(run(prog, 'c', 1, 5, R)).toBe(1); // /dev/zero
    expect(run(prog, 'c', 136, 4, R | W)).toBe(1); // a pts
    expect(run(prog, 'c', 10, 200, W)).toBe(1); // /dev/net/tun
    expect(run(prog, 'c', 10, 229, R)).toBe(0); // /dev/fuse
    expect(run(prog, 'b', 8, 0, R)).toBe(0); // /dev/sda
    expect(run(prog, 'b', 8, 0, M)).toBe(1); // mknod of anything
    expect(run(prog, 'b', 8, 0, M | R)).toBe(0); // ...but not together with reading it
  });

  test('a config rule and linux.devices paths: /dev/fuse allowed, /dev/zero default dropped', () => {
    const rules = effectiveDeviceRules([denyAll, { allow: true, type: 'c', major: 10, minor: 229, access: 'rw' }], ['/dev/zero']);
    const prog = planDeviceFilter(rules);
    expect(run(prog, 'c', 10, 229, R | W)).toBe(1);
    expect(run(prog, 'c', 10, 229, M)).toBe(1); // from the c *:* m default
    expect(run(prog, 'c', 1, 5, R)).toBe(0);
    for (const [t, major, minor] of DEVICES) {
      for (const a of ACCESSES) expect(run(prog, t, major, minor, a)).toBe(allowOnlyReference(rules, t, major, minor, a));
    }
  });

  test('a later deny removes bits of the same device (last rule wins)', () => {
    const prog = planDeviceFilter([denyAll, { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }, { allow: false, type: 'c', major: 1, minor: 3, access: 'w' }]);
    expect(run(prog, 'c', 1, 3, R)).toBe(1);
    expect(run(prog, 'c', 1, 3, M)).toBe(1);
    expect(run(prog, 'c', 1, 3, W)).toBe(0);
    expect(run(prog, 'c', 1, 3, R | W)).toBe(0);
    expect(run(prog, 'b', 1, 3, R)).toBe(0);
  });

  test("a line the kernel cannot keep on its own, which a later rule puts right (runc's default allow c *:* m), is taken: only the end state is enforced", () => {
    const noMknod = effectiveDeviceRules([denyAll, { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }, { allow: false, type: 'c', access: 'm' }]);
    expect(() => planDeviceFilter(noMknod, 3)).not.toThrow();
    const privilegedNoPty = effectiveDeviceRules([{ allow: true, access: 'rwm' }, { allow: false, type: 'c', major: 136, access: 'rwm' }]);
    const prog = planDeviceFilter(privilegedNoPty, 2);
    expect(run(prog, 'c', 136, 0, R | W)).toBe(1); // runc's default allows the ptys again
    expect(run(prog, 'b', 8, 0, R | W | M)).toBe(1);
  });

  test('a deny that would punch a hole into a wider allow is refused, naming it (the v1 kernel would keep the allow; runc refuses too)', () => {
    expect(() => planDeviceFilter([denyAll, { allow: true, type: 'c', access: 'rw' }, { allow: false, type: 'c', major: 1, minor: 3, access: 'rw' }])).toThrow(
      /linux\.resources\.devices\[2\]: cannot express "deny c 1:3 rw" after the rules before it/,
    );
    // A deny narrowing an allow of exactly that device is expressible: taken.
    const prog = planDeviceFilter([denyAll, { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }, { allow: false, type: 'c', major: 1, minor: 3, access: 'w' }]);
    expect(run(prog, 'c', 1, 3, R)).toBe(1);
    expect(run(prog, 'c', 1, 3, W)).toBe(0);
    // A deny of a wildcard that covers an exception it cannot reach (write to all): refused.
    expect(() => planDeviceFilter([denyAll, { allow: true, type: 'c', major: 10, minor: 232, access: 'rwm' }, { allow: false, access: 'w' }])).toThrow(/devices\[2\]: cannot express/);
    // Allow-all, a deny of every char device, then runc's default allows: refused at the
    // first default rule the kernel would not honour.
    expect(() => planDeviceFilter(effectiveDeviceRules([{ allow: true, access: 'rwm' }, { allow: false, type: 'c', access: 'rwm' }]), 2)).toThrow(
      /linux\.resources\.devices: cannot express runc's default rule "allow c 1:3 rwm" after the config's rules/,
    );
  });

  test('allow-all, then a deny of one device: taken, as runc takes it; runc\'s default "allow c *:* m" after it cannot reach that device, whose mknod stays denied too', () => {
    const prog = planDeviceFilter(effectiveDeviceRules([{ allow: true, access: 'rwm' }, { allow: false, type: 'c', major: 10, minor: 229, access: 'rwm' }]), 2);
    for (const bit of [R, W, M]) expect(run(prog, 'c', 10, 229, bit)).toBe(0);
    expect(run(prog, 'c', 10, 200, R | W)).toBe(1);
    expect(run(prog, 'b', 8, 0, R | W | M)).toBe(1);
  });

  test('allow-all default: a deny exception blocks any overlapping access', () => {
    const prog = planDeviceFilter([{ allow: true, access: 'rwm' }, { allow: false, type: 'c', major: 1, minor: 3, access: 'w' }, { allow: false, type: 'b', major: 8, access: 'rwm' }]);
    expect(run(prog, 'c', 1, 3, R)).toBe(1);
    expect(run(prog, 'c', 1, 3, W)).toBe(0);
    expect(run(prog, 'c', 1, 3, R | W)).toBe(0);
    expect(run(prog, 'c', 1, 5, R | W)).toBe(1);
    expect(run(prog, 'b', 8, 16, M)).toBe(0);
    expect(run(prog, 'b', 9, 0, R)).toBe(1);
    expect(run(prog, 'c', 8, 0, R)).toBe(1);
  });

  test('a later "a" resets: deny-all after allows denies everything', () => {
    const prog = planDeviceFilter([{ allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }, denyAll]);
    for (const [t, major, minor] of DEVICES) for (const a of ACCESSES) expect(run(prog, t, major, minor, a)).toBe(0);
  });

  test('type "a" narrower than everything covers char and block devices', () => {
    const prog = planDeviceFilter([denyAll, { allow: true, type: 'a', major: 8, access: 'r' }]);
    expect(run(prog, 'c', 8, 1, R)).toBe(1);
    expect(run(prog, 'b', 8, 1, R)).toBe(1);
    expect(run(prog, 'b', 8, 1, W)).toBe(0);
    expect(run(prog, 'b', 9, 0, R)).toBe(0);
  });

  test('the kernel model: exceptions merge for the same device, drop when emptied', () => {
    const state = emulateDeviceCgroup(deviceLines([
      { allow: true, type: 'c', major: 1, minor: 3, access: 'r' },
      { allow: true, type: 'c', major: 1, minor: 3, access: 'w' },
      { allow: true, type: 'b', major: 8, minor: 0, access: 'r' },
      { allow: false, type: 'b', major: 8, minor: 0, access: 'rw' },
    ]));
    expect(state).toEqual({ defaultAllow: false, exceptions: [{ type: 'c', major: 1, minor: 3, access: R | W }] });
    expect(emulateDeviceCgroup(deviceLines(effectiveDeviceRules([denyAll]))).exceptions).toHaveLength(DEFAULT_DEVICE_RULES.length);
  });

  test('invalid rules are refused like on v1; device numbers beyond 2^31-1 are refused', () => {
    expect(() => planDeviceFilter([{ allow: true, type: 'c', major: -3, access: 'r' }])).toThrow(/linux.resources.devices\[0\].major/);
    expect(() => planDeviceFilter([{ allow: true, type: 'c', access: '' }])).toThrow(ConfigError);
    expect(() => planDeviceFilter([denyAll, { allow: true, type: 'c', major: 2 ** 31, minor: 0, access: 'r' }])).toThrow(/out of range/);
  });
});

describe('struct bpf_insn encoding', () => {
  test('little-endian layout: code, dst low nibble / src high nibble, off s16, imm s32', () => {
    const insns: BpfInsn[] = [
      { code: 0x61, dst: 2, src: 1, off: 4, imm: 0 },
      { code: 0x55, dst: 4, src: 0, off: -2, imm: -1 },
      { code: 0xb7, dst: 0, src: 0, off: 0, imm: 1 },
      { code: 0x95, dst: 0, src: 0, off: 0, imm: 0 },
    ];
    const buf = encodeInsns(insns, 'LE');
    expect(buf.toString('hex')).toBe('6112040000000000' + '5504feffffffffff' + 'b700000001000000' + '9500000000000000');
    expect(decodeInsns(buf)).toEqual(insns);
    expect(encodeInsns([insns[0]], 'BE').toString('hex')).toBe('6121000400000000');
  });

  test('the planned program round-trips and ends in exit', () => {
    const prog = planDeviceFilter(effectiveDeviceRules([denyAll]));
    const buf = encodeInsns(prog, 'LE');
    expect(buf.length).toBe(prog.length * 8);
    expect(decodeInsns(buf)).toEqual(prog);
    expect(prog[prog.length - 1].code).toBe(0x95);
  });
});

describe('device rule lists against their meaning (random lists, a fixed seed)', () => {
  // The list's meaning: the last rule that matches the device and holds the access decides.
  const meant = (rules: readonly DeviceCgroupRule[], type: 'c' | 'b', major: number, minor: number, access: string): boolean => {
    let allowed = false;
    const fits = (v: number | undefined | null, id: number): boolean => v === undefined || v === null || v === -1 || v === id;
    for (const r of rules) {
      if ((r.type ?? 'a') !== 'a' && r.type !== type) continue;
      if (fits(r.major, major) && fits(r.minor, minor) && (r.access ?? '').includes(access)) allowed = r.allow;
    }
    return allowed;
  };
  // The kernel's exceptions, read the way device_cgroup.c matches a single device.
  const kernel = (rules: readonly DeviceCgroupRule[], type: 'c' | 'b', major: number, minor: number, bit: number): boolean => {
    const state = emulateDeviceCgroup([{ file: 'devices.deny', line: 'a' }, ...rules.flatMap((r, i) => deviceRuleLines(r, i))]);
    const hit = state.exceptions.some((e) => e.type === type && (e.major === null || e.major === major) && (e.minor === null || e.minor === minor) && (e.access & bit) !== 0);
    return state.defaultAllow ? !hit : hit;
  };
  // 'differs': the kernel lets through an access the list denies, or refuses a read
  // or write it allows; 'mknod': it only refuses a mknod the list allows.
  const compare = (rules: readonly DeviceCgroupRule[]): 'same' | 'mknod' | 'differs' => {
    let mknod = false;
    for (const type of ['c', 'b'] as const) {
      for (const major of [1, 2, 9]) {
        for (const minor of [1, 2, 9]) {
          for (const [access, bit] of [['m', M], ['r', R], ['w', W]] as const) {
            const k = kernel(rules, type, major, minor, bit);
            const m = meant(rules, type, major, minor, access);
            if (k !== m && (k || access !== 'm')) return 'differs';
            if (k !== m) mknod = true;
          }
        }
      }
    }
    return mknod ? 'mknod' : 'same';
  };
  // xorshift32: the same lists on every run.
  let seed = 12345;
  const random = (n: number): number => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) % n;
  };
  const pick = <T>(values: readonly T[]): T => values[random(values.length)]!;

  test('a list is taken exactly when the kernel keeps its meaning, but for a mknod it may also refuse (as runc takes such a list)', () => {
    let taken = 0;
    let refused = 0;
    let takenMknod = 0;
    for (let n = 0; n < 600; n++) {
      const rules: DeviceCgroupRule[] = [pick([{ allow: false, access: 'rwm' }, { allow: true, access: 'rwm' }])];
      for (let k = 2 + random(7); k > 0; k--) {
        rules.push({ allow: random(2) === 0, type: pick(['a', 'c', 'b'] as const), major: pick([undefined, 1, 2]), minor: pick([undefined, 1, 2]), access: pick(['m', 'r', 'w', 'rw', 'rwm']) });
      }
      let ok = true;
      try {
        deviceLines(rules);
      } catch (e) {
        ok = false;
        expect((e as Error).message).toMatch(/^linux\.resources\.devices\[\d+\]: cannot express/);
      }
      const kernelVsMeaning = compare(rules);
      if (ok) taken++;
      else refused++;
      if (ok && kernelVsMeaning === 'mknod') takenMknod++;
      expect({ rules, taken: ok }).toEqual({ rules, taken: kernelVsMeaning !== 'differs' });
    }
    // Every outcome is exercised.
    expect({ taken: taken > 50, refused: refused > 50, takenMknod: takenMknod > 5 }).toEqual({ taken: true, refused: true, takenMknod: true });
  });
});
