// A stand-in for a caller's NOTIFY_SOCKET (systemd's): tsrun-test-notify-receiver
// bound in a dir of the test's, printing each datagram it gets on a line.
import * as fs from 'fs';
import * as path from 'path';
import { spawn } from 'child_process';
import { repoRoot, waitFor } from './runtime';

export const RELEASE_DIR = path.join(repoRoot(), 'build', 'Release');
/** The static sender the containers run: `sd-notify READY=1` (test/native/sd-notify.cpp). */
export const SD_NOTIFY = path.join(RELEASE_DIR, 'tsrun-test-sd-notify');

export interface NotifyReceiver {
  socket: string;
  /** The datagrams received so far, a newline inside one as \n. */
  received(): string[];
  stop(): void;
}

export async function startNotifyReceiver(parent: string): Promise<NotifyReceiver> {
  const dir = fs.mkdtempSync(path.join(parent, 'caller-'));
  const socket = path.join(dir, 'notify.sock');
  const out = path.join(dir, 'received.txt');
  const fd = fs.openSync(out, 'a');
  const child = spawn(path.join(RELEASE_DIR, 'tsrun-test-notify-receiver'), [socket], { stdio: ['ignore', fd, 'inherit'] });
  fs.closeSync(fd);
  const stop = (): void => {
    child.kill('SIGKILL');
  };
  try {
    await waitFor(() => fs.existsSync(socket), 'the receiver to bind its socket');
  } catch (e) {
    stop();
    throw e;
  }
  return { socket, received: () => fs.readFileSync(out, 'utf8').split('\n').filter(Boolean), stop };
}
