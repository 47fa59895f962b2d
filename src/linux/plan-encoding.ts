// Binary encoding of a plan for the init program (format: addon/PROTOCOL.md).
// Records are written as fields with u32 lengths so that the C++ side needs no
// parser beyond reading integers; numbers travel as decimal text.

export type PlanArg = string | number | bigint;

export interface PlanOp {
  op: string;
  args: PlanArg[];
}

export function op(name: string, ...args: PlanArg[]): PlanOp {
  return { op: name, args };
}

/**
 * The plan as the init reads it. The lifecycle has the addon encode it
 * (native().encodePlan, ~20 times faster than this interpreted loop); this is the
 * format's reference, which the tests build plans with and hold the addon's to. In
 * code that V8 only interprets, what it allocates is what counts. Built from arrays
 * of strings and joins, a `run`'s plan (~80 ops) left ~100 KB in the young
 * generation, the last straw for a scavenge (~0.9 ms) the command did not otherwise
 * need. So the usual, ASCII plan is written byte by byte into one buffer sized
 * beforehand (Node's pool when small), leaving nothing behind; a plan with any other
 * character is written field by field as UTF-8 instead.
 */
export function encodePlan(ops: readonly PlanOp[]): Buffer {
  return encodeAscii(ops) ?? encodeUtf8(ops);
}

function nulIn(name: string): Error {
  return new Error(`plan op ${name}: argument contains a NUL byte`);
}

/** From this length on a field is copied by one native call rather than a loop (shorter ones: the calls cost more). */
const NATIVE_COPY_FROM = 64;

/** undefined at the first character beyond ASCII (then the lengths are not the character counts). */
function encodeAscii(ops: readonly PlanOp[]): Buffer | undefined {
  let size = 0;
  for (let i = 0; i < ops.length; i++) {
    const { op: name, args } = ops[i]!;
    size += 8 + name.length;
    for (let j = 0; j < args.length; j++) size += 4 + String(args[j]).length;
  }
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  const u32 = (n: number): void => {
    out[at] = n & 0xff;
    out[at + 1] = (n >>> 8) & 0xff;
    out[at + 2] = (n >>> 16) & 0xff;
    out[at + 3] = n >>> 24;
    at += 4;
  };
  const field = (name: string, text: string): boolean => {
    u32(text.length);
    // A long field (a seccomp program: 15,664 hex digits for Docker's profile) is
    // checked and copied by Node in C++: interpreted, the byte loop took ~2 ms for it.
    // Its UTF-8 length equals its length only when every character is ASCII.
    if (text.length >= NATIVE_COPY_FROM) {
      if (text.includes('\0')) throw nulIn(name);
      if (Buffer.byteLength(text, 'utf8') !== text.length) return false;
      at += out.write(text, at, 'latin1');
      return true;
    }
    for (let k = 0; k < text.length; k++) {
      const c = text.charCodeAt(k);
      if (c === 0) throw nulIn(name);
      if (c > 0x7f) return false;
      out[at++] = c;
    }
    return true;
  };
  for (let i = 0; i < ops.length; i++) {
    const { op: name, args } = ops[i]!;
    u32(args.length + 1);
    if (!field(name, name)) return undefined;
    for (let j = 0; j < args.length; j++) if (!field(name, String(args[j]))) return undefined;
  }
  return out;
}

function encodeUtf8(ops: readonly PlanOp[]): Buffer {
  const records = ops.map(({ op: name, args }) => [name, ...args.map(String)]);
  let size = 0;
  for (const fields of records) {
    size += 4;
    for (const field of fields) {
      if (field.includes('\0')) throw nulIn(fields[0]!);
      size += 4 + Buffer.byteLength(field, 'utf8');
    }
  }
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (const fields of records) {
    at = out.writeUInt32LE(fields.length, at);
    for (const field of fields) {
      const len = out.write(field, at + 4, 'utf8');
      out.writeUInt32LE(len, at);
      at += 4 + len;
    }
  }
  return out;
}

/** Inverse of encodePlan; used by tests and `--debug` output. */
export function decodePlan(buf: Buffer): PlanOp[] {
  const ops: PlanOp[] = [];
  let at = 0;
  const u32 = (): number => {
    if (at + 4 > buf.length) throw new Error('truncated plan');
    const n = buf.readUInt32LE(at);
    at += 4;
    return n;
  };
  while (at < buf.length) {
    const count = u32();
    const fields: string[] = [];
    for (let i = 0; i < count; i++) {
      const len = u32();
      if (at + len > buf.length) throw new Error('truncated plan');
      fields.push(buf.toString('utf8', at, at + len));
      at += len;
    }
    const [name, ...args] = fields;
    ops.push({ op: name ?? '', args });
  }
  return ops;
}
