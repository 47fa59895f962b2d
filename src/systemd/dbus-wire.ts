// The D-Bus wire format (the specification's "Message Protocol"), little-endian, for
// the few calls tsrun makes to systemd: values are written and read by their type
// signature, and a message is a header (with its fields) and a body. Pure.
import { TsrunError } from '../errors';

/** A value of type `v`: its signature travels with it. */
export interface Variant {
  sig: string;
  value: DBusValue;
}

/** y, u, i, q, n, d: number; b: boolean; t, x: bigint (numbers accepted on write); s, o, g: string; a: array; (): array; v: Variant. */
export type DBusValue = number | bigint | boolean | string | Variant | DBusValue[];

export class DBusProtocolError extends TsrunError {}

export const MessageType = { methodCall: 1, methodReturn: 2, error: 3, signal: 4 } as const;

const Field = { path: 1, interface: 2, member: 3, errorName: 4, replySerial: 5, destination: 6, sender: 7, signature: 8, unixFds: 9 } as const;

/** One complete type at the start of `sig` (a, (), {} nest): its length in characters. */
function completeTypeLength(sig: string, at: number): number {
  const c = sig[at];
  if (c === 'a') return 1 + completeTypeLength(sig, at + 1);
  if (c === '(' || c === '{') {
    const close = c === '(' ? ')' : '}';
    let i = at + 1;
    while (sig[i] !== close) {
      if (i >= sig.length) throw new DBusProtocolError(`bad D-Bus signature "${sig}"`);
      i += completeTypeLength(sig, i);
    }
    return i + 1 - at;
  }
  if (c === undefined || !'ybnqiuxtdsogvh'.includes(c)) throw new DBusProtocolError(`bad D-Bus signature "${sig}"`);
  return 1;
}

/** The complete types of a signature, in order. */
export function splitSignature(sig: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < sig.length; ) {
    const n = completeTypeLength(sig, i);
    out.push(sig.slice(i, i + n));
    i += n;
  }
  return out;
}

function alignmentOf(type: string): number {
  switch (type[0]) {
    case 'y':
    case 'g':
    case 'v':
      return 1;
    case 'n':
    case 'q':
      return 2;
    case 'x':
    case 't':
    case 'd':
    case '(':
    case '{':
      return 8;
    default:
      return 4;
  }
}

class Writer {
  private buf = Buffer.alloc(256);
  length = 0;

  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const bigger = Buffer.alloc(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(bigger, 0, 0, this.length);
    this.buf = bigger;
  }

  align(n: number): void {
    const pad = (n - (this.length % n)) % n;
    this.room(pad);
    this.buf.fill(0, this.length, this.length + pad);
    this.length += pad;
  }

  u8(v: number): void {
    this.room(1);
    this.buf.writeUInt8(v, this.length);
    this.length += 1;
  }

  u32(v: number): void {
    this.align(4);
    this.room(4);
    this.buf.writeUInt32LE(v >>> 0, this.length);
    this.length += 4;
  }

  at(offset: number, v: number): void {
    this.buf.writeUInt32LE(v >>> 0, offset);
  }

  bytes(b: Buffer): void {
    this.room(b.length);
    b.copy(this.buf, this.length);
    this.length += b.length;
  }

  take(): Buffer {
    return this.buf.subarray(0, this.length);
  }

  write(type: string, value: DBusValue): void {
    const bad = (): never => {
      throw new DBusProtocolError(`D-Bus value ${JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))} does not fit type "${type}"`);
    };
    switch (type[0]) {
      case 'y':
        if (typeof value !== 'number') return bad();
        return this.u8(value);
      case 'b':
        if (typeof value !== 'boolean') return bad();
        return this.u32(value ? 1 : 0);
      case 'n':
      case 'q':
        if (typeof value !== 'number') return bad();
        this.align(2);
        this.room(2);
        if (type === 'n') this.buf.writeInt16LE(value, this.length);
        else this.buf.writeUInt16LE(value, this.length);
        this.length += 2;
        return;
      case 'i':
      case 'u':
        if (typeof value !== 'number') return bad();
        this.align(4);
        this.room(4);
        if (type === 'i') this.buf.writeInt32LE(value, this.length);
        else this.buf.writeUInt32LE(value, this.length);
        this.length += 4;
        return;
      case 'd':
        if (typeof value !== 'number') return bad();
        this.align(8);
        this.room(8);
        this.buf.writeDoubleLE(value, this.length);
        this.length += 8;
        return;
      case 'x':
      case 't': {
        if (typeof value !== 'number' && typeof value !== 'bigint') return bad();
        this.align(8);
        this.room(8);
        const big = BigInt(value);
        if (type === 'x') this.buf.writeBigInt64LE(big, this.length);
        else this.buf.writeBigUInt64LE(big, this.length);
        this.length += 8;
        return;
      }
      case 's':
      case 'o': {
        if (typeof value !== 'string') return bad();
        const b = Buffer.from(value, 'utf8');
        this.u32(b.length);
        this.bytes(b);
        return this.u8(0);
      }
      case 'g': {
        if (typeof value !== 'string') return bad();
        this.u8(value.length);
        this.bytes(Buffer.from(value, 'ascii'));
        return this.u8(0);
      }
      case 'v': {
        if (typeof value !== 'object' || value === null || Array.isArray(value)) return bad();
        const v = value as Variant;
        if (splitSignature(v.sig).length !== 1) return bad();
        this.write('g', v.sig);
        return this.write(v.sig, v.value);
      }
      case 'a': {
        if (!Array.isArray(value)) return bad();
        const element = type.slice(1);
        this.u32(0);
        const lengthAt = this.length - 4;
        // The length counts from the first element, after its padding.
        this.align(alignmentOf(element));
        const start = this.length;
        for (const item of value) this.write(element, item);
        this.at(lengthAt, this.length - start);
        return;
      }
      case '(':
      case '{': {
        if (!Array.isArray(value)) return bad();
        const members = splitSignature(type.slice(1, -1));
        if (members.length !== value.length) return bad();
        this.align(8);
        members.forEach((m, i) => this.write(m, value[i] as DBusValue));
        return;
      }
      default:
        return bad();
    }
  }
}

class Reader {
  pos = 0;

  constructor(private readonly buf: Buffer, private readonly base = 0) {}

  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw new DBusProtocolError('D-Bus message ends early');
  }

  align(n: number): void {
    // Alignment is relative to the start of the message: `base` is where this buffer starts in it.
    const pad = (n - ((this.base + this.pos) % n)) % n;
    this.need(pad);
    this.pos += pad;
  }

  u32(): number {
    this.align(4);
    this.need(4);
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  read(type: string): DBusValue {
    switch (type[0]) {
      case 'y':
        this.need(1);
        return this.buf.readUInt8(this.pos++);
      case 'b':
        return this.u32() !== 0;
      case 'n':
      case 'q': {
        this.align(2);
        this.need(2);
        const v = type === 'n' ? this.buf.readInt16LE(this.pos) : this.buf.readUInt16LE(this.pos);
        this.pos += 2;
        return v;
      }
      case 'i':
      case 'u':
      case 'h': {
        this.align(4);
        this.need(4);
        const v = type === 'i' ? this.buf.readInt32LE(this.pos) : this.buf.readUInt32LE(this.pos);
        this.pos += 4;
        return v;
      }
      case 'x':
      case 't':
      case 'd': {
        this.align(8);
        this.need(8);
        const v = type === 'x' ? this.buf.readBigInt64LE(this.pos) : type === 't' ? this.buf.readBigUInt64LE(this.pos) : this.buf.readDoubleLE(this.pos);
        this.pos += 8;
        return v;
      }
      case 's':
      case 'o': {
        const n = this.u32();
        this.need(n + 1);
        const s = this.buf.toString('utf8', this.pos, this.pos + n);
        this.pos += n + 1;
        return s;
      }
      case 'g': {
        this.need(1);
        const n = this.buf.readUInt8(this.pos++);
        this.need(n + 1);
        const s = this.buf.toString('ascii', this.pos, this.pos + n);
        this.pos += n + 1;
        return s;
      }
      case 'v': {
        const sig = this.read('g') as string;
        if (splitSignature(sig).length !== 1) throw new DBusProtocolError(`bad variant signature "${sig}"`);
        return { sig, value: this.read(sig) };
      }
      case 'a': {
        const n = this.u32();
        const element = type.slice(1);
        this.align(alignmentOf(element));
        const end = this.pos + n;
        this.need(n);
        const out: DBusValue[] = [];
        while (this.pos < end) out.push(this.read(element));
        if (this.pos !== end) throw new DBusProtocolError('D-Bus array overruns its length');
        return out;
      }
      case '(':
      case '{': {
        this.align(8);
        return splitSignature(type.slice(1, -1)).map((m) => this.read(m));
      }
      default:
        throw new DBusProtocolError(`cannot read D-Bus type "${type}"`);
    }
  }
}

/** Writes `values` by `sig` (a sequence of complete types), as a message body. */
export function marshal(sig: string, values: readonly DBusValue[]): Buffer {
  const types = splitSignature(sig);
  if (types.length !== values.length) throw new DBusProtocolError(`signature "${sig}" wants ${types.length} values, got ${values.length}`);
  const w = new Writer();
  types.forEach((t, i) => w.write(t, values[i] as DBusValue));
  return Buffer.from(w.take());
}

/** Reads a body of signature `sig`; the body starts 8-aligned in its message. */
export function unmarshal(sig: string, body: Buffer): DBusValue[] {
  const r = new Reader(body);
  return splitSignature(sig).map((t) => r.read(t));
}

export interface Message {
  type: number;
  flags: number;
  serial: number;
  path?: string;
  interface?: string;
  member?: string;
  errorName?: string;
  replySerial?: number;
  destination?: string;
  sender?: string;
  signature: string;
  body: Buffer;
}

/** A method call's bytes. */
export function encodeMethodCall(call: { serial: number; destination?: string; path: string; interface: string; member: string; signature?: string; args?: readonly DBusValue[] }): Buffer {
  const signature = call.signature ?? '';
  const body = marshal(signature, call.args ?? []);
  const fields: DBusValue[] = [
    [Field.path, { sig: 'o', value: call.path }],
    [Field.interface, { sig: 's', value: call.interface }],
    [Field.member, { sig: 's', value: call.member }],
  ];
  if (call.destination !== undefined) fields.push([Field.destination, { sig: 's', value: call.destination }]);
  if (signature !== '') fields.push([Field.signature, { sig: 'g', value: signature }]);
  const w = new Writer();
  w.u8('l'.charCodeAt(0));
  w.u8(MessageType.methodCall);
  w.u8(0);
  w.u8(1);
  w.u32(body.length);
  w.u32(call.serial);
  w.write('a(yv)', fields);
  w.align(8);
  w.bytes(body);
  return Buffer.from(w.take());
}

/** The full length of the message at the start of `buf` (its first 16 bytes are enough), or undefined. */
export function messageLength(buf: Buffer): number | undefined {
  if (buf.length < 16) return undefined;
  if (buf[0] !== 'l'.charCodeAt(0)) throw new DBusProtocolError('big-endian D-Bus messages are not read');
  const bodyLength = buf.readUInt32LE(4);
  const fieldsLength = buf.readUInt32LE(12);
  const headerEnd = 16 + fieldsLength;
  return headerEnd + ((8 - (headerEnd % 8)) % 8) + bodyLength;
}

/** Decodes one whole message (messageLength bytes). */
export function decodeMessage(buf: Buffer): Message {
  const r = new Reader(buf);
  r.pos = 1;
  const type = r.read('y') as number;
  const flags = r.read('y') as number;
  r.read('y');
  const bodyLength = r.u32();
  const serial = r.u32();
  const fields = r.read('a(yv)') as [number, Variant][];
  r.align(8);
  const msg: Message = { type, flags, serial, signature: '', body: buf.subarray(r.pos, r.pos + bodyLength) };
  for (const [code, v] of fields) {
    if (code === Field.path) msg.path = v.value as string;
    else if (code === Field.interface) msg.interface = v.value as string;
    else if (code === Field.member) msg.member = v.value as string;
    else if (code === Field.errorName) msg.errorName = v.value as string;
    else if (code === Field.replySerial) msg.replySerial = v.value as number;
    else if (code === Field.destination) msg.destination = v.value as string;
    else if (code === Field.sender) msg.sender = v.value as string;
    else if (code === Field.signature) msg.signature = v.value as string;
  }
  if (msg.body.length !== bodyLength) throw new DBusProtocolError('D-Bus message body ends early');
  return msg;
}
