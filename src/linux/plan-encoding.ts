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

export function encodePlan(ops: readonly PlanOp[]): Buffer {
  const chunks: Buffer[] = [];
  const u32 = (n: number): Buffer => {
    const b = Buffer.allocUnsafe(4);
    b.writeUInt32LE(n, 0);
    return b;
  };
  for (const { op: name, args } of ops) {
    const fields = [name, ...args.map(String)];
    chunks.push(u32(fields.length));
    for (const field of fields) {
      if (field.includes('\0')) throw new Error(`plan op ${name}: argument contains a NUL byte`);
      const bytes = Buffer.from(field, 'utf8');
      chunks.push(u32(bytes.length), bytes);
    }
  }
  return Buffer.concat(chunks);
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
