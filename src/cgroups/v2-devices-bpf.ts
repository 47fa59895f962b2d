// The cgroup v2 device filter: the same rule list the v1 driver writes to
// devices.allow/devices.deny, turned into a BPF_PROG_TYPE_CGROUP_DEVICE program the
// addon loads and attaches. Pure: no syscalls here.
//
// Semantics are the v1 kernel's, by construction: the v1 lines (deviceLines) are
// replayed through a model of the kernel's devices cgroup (a default behaviour plus
// an exception list, security/device_cgroup.c), and the program encodes the result.
// That is also what runc does (its devices emulator, then the filter), so a rule
// cannot, e.g., punch a hole into a wildcard allow on v2 where v1 would not.
import type { DeviceCgroupRule } from '../config/types';
import { ConfigError } from '../errors';
import { deviceLines } from './devices';
import { BPF_DEVCG_ACC_MKNOD, BPF_DEVCG_ACC_READ, BPF_DEVCG_ACC_WRITE, emulateDeviceCgroup, type DeviceCgroupState, type DeviceException } from './device-cgroup-model';

// linux/bpf.h: struct bpf_cgroup_dev_ctx and its constants (the access bits are the
// model's, device-cgroup-model.ts).
export const BPF_DEVCG_DEV_BLOCK = 1;
export const BPF_DEVCG_DEV_CHAR = 2;
export { BPF_DEVCG_ACC_MKNOD, BPF_DEVCG_ACC_READ, BPF_DEVCG_ACC_WRITE, emulateDeviceCgroup, type DeviceCgroupState, type DeviceException };
const ACC_ALL = BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE;
const CTX_ACCESS_TYPE = 0;
const CTX_MAJOR = 4;
const CTX_MINOR = 8;

// linux/bpf_common.h and linux/bpf.h opcode parts (only what the filter uses).
export const BPF_LDX = 0x01;
export const BPF_ALU = 0x04;
export const BPF_JMP = 0x05;
export const BPF_ALU64 = 0x07;
export const BPF_W = 0x00;
export const BPF_MEM = 0x60;
export const BPF_K = 0x00;
export const BPF_X = 0x08;
export const BPF_AND = 0x50;
export const BPF_RSH = 0x70;
export const BPF_MOV = 0xb0;
export const BPF_JEQ = 0x10;
export const BPF_JNE = 0x50;
export const BPF_EXIT = 0x90;

/** struct bpf_insn */
export interface BpfInsn {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}

// Register use: r1 = ctx (then scratch), r2 = device type, r3 = requested access,
// r4 = major, r5 = minor, r0 = verdict.
const R0 = 0, R1 = 1, R2 = 2, R3 = 3, R4 = 4, R5 = 5;

const insn = (code: number, dst: number, src: number, off: number, imm: number): BpfInsn => ({ code, dst, src, off, imm });
const ldxW = (dst: number, src: number, off: number): BpfInsn => insn(BPF_LDX | BPF_W | BPF_MEM, dst, src, off, 0);
const alu32K = (op: number, dst: number, imm: number): BpfInsn => insn(BPF_ALU | op | BPF_K, dst, 0, 0, imm);
const mov32X = (dst: number, src: number): BpfInsn => insn(BPF_ALU | BPF_MOV | BPF_X, dst, src, 0, 0);
const mov64K = (dst: number, imm: number): BpfInsn => insn(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm);
const jmpK = (op: number, dst: number, imm: number): BpfInsn => insn(BPF_JMP | op | BPF_K, dst, 0, 0, imm);
const jmpX = (op: number, dst: number, src: number): BpfInsn => insn(BPF_JMP | op | BPF_X, dst, src, 0, 0);
const exit = (): BpfInsn => insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);

// Immediates are sign-extended to 64 bits before a compare with the zero-extended
// u32 the register holds: values must stay below 2^31 (Linux majors are 12 bits,
// minors 20).
const MAX_ID = 0x7fffffff;

/**
 * One block per exception: each test that fails jumps past the block's end (the
 * next block); when all pass, the exception decides. Default deny: an exception
 * allows when it holds every requested access bit (the kernel's match_exception).
 * Default allow: an exception denies when it holds any of them
 * (match_exception_partial).
 */
function exceptionBlock(e: DeviceException, defaultAllow: boolean): BpfInsn[] {
  const block: BpfInsn[] = [];
  const jumps: number[] = [];
  const jump = (i: BpfInsn): void => {
    jumps.push(block.length);
    block.push(i);
  };
  jump(jmpK(BPF_JNE, R2, e.type === 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK));
  if (defaultAllow) {
    block.push(mov32X(R1, R3), alu32K(BPF_AND, R1, e.access));
    jump(jmpK(BPF_JEQ, R1, 0));
  } else if (e.access !== ACC_ALL) {
    block.push(mov32X(R1, R3), alu32K(BPF_AND, R1, e.access));
    jump(jmpX(BPF_JNE, R1, R3));
  }
  if (e.major !== null) jump(jmpK(BPF_JNE, R4, e.major));
  if (e.minor !== null) jump(jmpK(BPF_JNE, R5, e.minor));
  block.push(mov64K(R0, defaultAllow ? 0 : 1), exit());
  for (const j of jumps) block[j].off = block.length - (j + 1);
  return block;
}

/** The program for a devices cgroup state: 1 = allow, 0 = deny (EPERM). */
export function deviceFilterProgram(state: DeviceCgroupState): BpfInsn[] {
  for (const e of state.exceptions) {
    for (const id of [e.major, e.minor]) {
      if (id !== null && (!Number.isInteger(id) || id < 0 || id > MAX_ID)) {
        throw new ConfigError('linux.resources.devices', `device number ${id} is out of range (0..${MAX_ID})`);
      }
    }
  }
  const prog: BpfInsn[] = [
    ldxW(R2, R1, CTX_ACCESS_TYPE),
    mov32X(R3, R2),
    alu32K(BPF_RSH, R3, 16),
    alu32K(BPF_AND, R2, 0xffff),
    ldxW(R4, R1, CTX_MAJOR),
    ldxW(R5, R1, CTX_MINOR),
  ];
  for (const e of state.exceptions) prog.push(...exceptionBlock(e, state.defaultAllow));
  prog.push(mov64K(R0, state.defaultAllow ? 1 : 0), exit());
  return prog;
}

/**
 * The full plan for an ordered rule list (already including runc's defaults, see
 * effectiveDeviceRules): validated exactly like the v1 lines, deny-all first.
 */
export function planDeviceFilter(rules: readonly DeviceCgroupRule[], configCount = rules.length): BpfInsn[] {
  return deviceFilterProgram(emulateDeviceCgroup(deviceLines(rules, configCount)));
}

/**
 * struct bpf_insn in memory: code u8, then dst_reg:4 and src_reg:4 bitfields in one
 * byte (dst in the low nibble on little-endian hosts, the high one on big-endian),
 * off s16, imm s32, in host byte order.
 */
/** This machine's byte order, without loading the os module (every create on a hybrid host loads this file). */
const HOST_ENDIANNESS: 'LE' | 'BE' = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 'LE' : 'BE';

export function encodeInsns(insns: readonly BpfInsn[], endianness: 'LE' | 'BE' = HOST_ENDIANNESS): Buffer {
  const buf = Buffer.alloc(insns.length * 8);
  insns.forEach((i, n) => {
    const at = n * 8;
    buf.writeUInt8(i.code, at);
    buf.writeUInt8(endianness === 'LE' ? ((i.src & 0xf) << 4) | (i.dst & 0xf) : ((i.dst & 0xf) << 4) | (i.src & 0xf), at + 1);
    if (endianness === 'LE') {
      buf.writeInt16LE(i.off, at + 2);
      buf.writeInt32LE(i.imm | 0, at + 4);
    } else {
      buf.writeInt16BE(i.off, at + 2);
      buf.writeInt32BE(i.imm | 0, at + 4);
    }
  });
  return buf;
}

/** The inverse of encodeInsns (little-endian), for tests and debugging. */
export function decodeInsns(buf: Buffer): BpfInsn[] {
  const out: BpfInsn[] = [];
  for (let at = 0; at + 8 <= buf.length; at += 8) {
    const regs = buf.readUInt8(at + 1);
    out.push({ code: buf.readUInt8(at), dst: regs & 0xf, src: regs >> 4, off: buf.readInt16LE(at + 2), imm: buf.readInt32LE(at + 4) });
  }
  return out;
}
