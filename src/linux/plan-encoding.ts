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
 * The plan as the init reads it: the format's reference. The lifecycle has the addon
 * encode plans (native().encodePlan, addon/native/plan-encoding.cpp, where this
 * took 0.5-0.75 ms interpreted for a `run`'s plan); the tests build plans with this
 * one and hold the addon's to its bytes.
 */
export function encodePlan(ops: readonly PlanOp[]): Buffer {
  const records = ops.map(({ op: name, args }) => [name, ...args.map(String)]);
  let size = 0;
  for (const fields of records) {
    size += 4;
    for (const field of fields) {
      if (field.includes('\0')) throw new Error(`plan op ${fields[0]}: argument contains a NUL byte`);
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

/** Inverse of encodePlan; used by tests. */
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
