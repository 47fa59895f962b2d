// Binary encoding of a plan for the init program (format: addon/PROTOCOL.md).
// Records are written as fields with u32 lengths so that the C++ side needs no
// parser beyond reading integers; numbers travel as decimal text.

export type PlanArg = string | number | bigint;

export interface PlanOp {
  op: string;
  args: PlanArg[];
}

const ASCII = /^[\x00-\x7f]*$/;

export function op(name: string, ...args: PlanArg[]): PlanOp {
  return { op: name, args };
}

/** A little-endian u32 as four characters below 256 (bytes, once encoded as latin1). */
const u32Chars = (n: number): string => String.fromCharCode(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24);

export function encodePlan(ops: readonly PlanOp[]): Buffer {
  const records: string[][] = [];
  const all: string[] = [];
  for (const { op: name, args } of ops) {
    const fields = [name];
    for (const arg of args) fields.push(String(arg));
    records.push(fields);
    all.push(fields.join(''));
  }
  // One test each over all the text, not one per field.
  const text = all.join('');
  if (text.includes('\0')) {
    const bad = records.find((fields) => fields.some((f) => f.includes('\0')));
    throw new Error(`plan op ${bad?.[0] ?? '?'}: argument contains a NUL byte`);
  }
  const ascii = ASCII.test(text);
  // The usual plan is ASCII: its bytes are its characters, so the whole record stream
  // is one string handed to Buffer once (a native call per field and per length cost
  // more than a create's whole planning).
  if (ascii) {
    const parts: string[] = [];
    for (const fields of records) {
      parts.push(u32Chars(fields.length));
      for (const field of fields) parts.push(u32Chars(field.length), field);
    }
    return Buffer.from(parts.join(''), 'latin1');
  }
  let size = 0;
  for (const fields of records) {
    size += 4;
    for (const field of fields) size += 4 + Buffer.byteLength(field, 'utf8');
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
