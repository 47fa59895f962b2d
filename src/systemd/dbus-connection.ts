// A synchronous D-Bus connection over a unix socket: tsrun's commands are synchronous
// from end to end (create talks to systemd inside a sync point with its init), so
// the socket is read with blocking reads bounded by a socket timeout, never through
// Node's event loop. Authentication is EXTERNAL: the server knows the caller from
// the socket's peer credentials.
import * as fs from 'fs';
import { errno } from '../cgroups/manager';
import { native } from '../native';
import { DBusProtocolError, decodeMessage, encodeMethodCall, MessageType, messageLength, unmarshal, type DBusValue, type Message } from './dbus-wire';

/** A D-Bus error reply: `name` is the error's name (org.freedesktop.systemd1.NoSuchUnit, ...). */
export class DBusError extends DBusProtocolError {
  constructor(readonly errorName: string, readonly detail: string, member: string) {
    super(`${member}: ${errorName}${detail ? `: ${detail}` : ''}`);
  }
}

export interface MethodCall {
  destination?: string;
  path: string;
  interface: string;
  member: string;
  signature?: string;
  args?: readonly DBusValue[];
}

export class DBusConnection {
  private serial = 0;
  private pending = Buffer.alloc(0);
  /** Signals read while waiting for a reply, for a later waitForSignal. */
  private signals: Message[] = [];
  private closed = false;

  private constructor(private readonly fd: number, private readonly socketPath: string, private readonly timeoutMs: number) {}

  /** Connects and authenticates (EXTERNAL, as the caller's uid). */
  static open(socketPath: string, timeoutMs: number): DBusConnection {
    const fd = native().connectUnix(socketPath, timeoutMs);
    const conn = new DBusConnection(fd, socketPath, timeoutMs);
    try {
      conn.authenticate();
    } catch (e) {
      conn.close();
      throw e;
    }
    return conn;
  }

  private authenticate(): void {
    const uid = Buffer.from(String(process.getuid?.() ?? 0), 'ascii').toString('hex');
    // One write, BEGIN included, and no message before the server's OK, as sd-bus's
    // own client does it. With the BEGIN written on its own after the OK, systemd 252
    // here at times never answered the first call (half of 200 connections in a row,
    // 30 s each); pipelined, it answered 600 of 600.
    this.send(Buffer.from(`\0AUTH EXTERNAL ${uid}\r\nBEGIN\r\n`, 'ascii'));
    const answer = this.readLine();
    if (!answer.startsWith('OK ')) throw new DBusProtocolError(`${this.socketPath}: authentication refused (${answer.trim()})`);
  }

  private readLine(): string {
    for (;;) {
      const end = this.pending.indexOf('\r\n');
      if (end >= 0) {
        const line = this.pending.toString('ascii', 0, end);
        this.pending = this.pending.subarray(end + 2);
        return line;
      }
      if (this.pending.length > 4096) throw new DBusProtocolError(`${this.socketPath}: authentication line too long`);
      this.receive();
    }
  }

  private send(bytes: Buffer): void {
    let off = 0;
    while (off < bytes.length) {
      try {
        off += fs.writeSync(this.fd, bytes, off);
      } catch (e) {
        throw this.ioError('write', e);
      }
    }
  }

  private receive(): void {
    const chunk = Buffer.alloc(65536);
    let n: number;
    try {
      n = fs.readSync(this.fd, chunk, 0, chunk.length, null);
    } catch (e) {
      throw this.ioError('read', e);
    }
    if (n === 0) throw new DBusProtocolError(`${this.socketPath}: connection closed by the bus`);
    this.pending = Buffer.concat([this.pending, chunk.subarray(0, n)]);
  }

  private ioError(what: string, e: unknown): Error {
    const code = errno(e);
    if (code === 'EAGAIN' || code === 'EWOULDBLOCK') return new DBusProtocolError(`${this.socketPath}: no answer within ${this.timeoutMs / 1000} s`);
    return new DBusProtocolError(`${what} ${this.socketPath}: ${code}`);
  }

  private readMessage(): Message {
    for (;;) {
      const length = messageLength(this.pending);
      if (length !== undefined && this.pending.length >= length) {
        const msg = decodeMessage(this.pending.subarray(0, length));
        this.pending = this.pending.subarray(length);
        return msg;
      }
      this.receive();
    }
  }

  /** Calls a method and returns its reply's values; an error reply throws DBusError. */
  call(c: MethodCall): DBusValue[] {
    const serial = ++this.serial;
    this.send(encodeMethodCall({ ...c, serial }));
    for (;;) {
      const msg = this.readMessage();
      if (msg.type === MessageType.signal) {
        this.signals.push(msg);
        continue;
      }
      if (msg.replySerial !== serial) continue;
      if (msg.type === MessageType.error) {
        const detail = msg.signature.startsWith('s') ? (unmarshal('s', msg.body)[0] as string) : '';
        throw new DBusError(msg.errorName ?? 'unknown error', detail, c.member);
      }
      return unmarshal(msg.signature, msg.body);
    }
  }

  /**
   * The first signal (kept since the last call, or read now) that `matches`, or
   * undefined once `deadline` (Date.now() ms) has passed.
   */
  waitForSignal(matches: (m: Message) => boolean, deadline: number): Message | undefined {
    for (;;) {
      const i = this.signals.findIndex(matches);
      if (i >= 0) return this.signals.splice(i, 1)[0];
      this.signals = [];
      if (Date.now() >= deadline) return undefined;
      const msg = this.readMessage();
      if (msg.type === MessageType.signal) this.signals.push(msg);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    fs.closeSync(this.fd);
  }
}
