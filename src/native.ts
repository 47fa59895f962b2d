// The only module that loads the C++ addon. Everything else imports these typed
// wrappers, so tests can see at a glance which system services tsrun needs.
import * as path from 'path';
import { stdioStreamsUsed } from './output';
import { LAUNCHER_NODE_OPTION } from './launcher-options';
import type { PlanOp } from './linux/plan-encoding';

export interface SpawnInitOptions {
  /** The encoded plan (see addon/PROTOCOL.md). */
  plan: Buffer;
  /** fds that become the init's 0, 1 and 2. */
  stdio: [number, number, number];
  /** The caller's fds 3 .. 3+preserveFds-1 are passed at the same numbers. */
  preserveFds: number;
  /** Passed at 3+preserveFds+2 onwards, in order (e.g. the exec FIFO opened O_PATH). */
  extraFds: number[];
}

export interface SpawnedInit {
  pid: number;
  /** Our end of the SOCK_SEQPACKET sync socket. */
  syncFd: number;
  /** It is the init bin/tsrun had spawned ahead (spawnInitAhead), now handed its fds. */
  spawnedAhead?: boolean;
}

export interface WaitResult {
  pid: number;
  /** Exit status when the process exited, else null. */
  exitCode: number | null;
  /** Signal number when the process was killed, else null. */
  signal: number | null;
}

/** One of the hooks tsrun runs itself, as runHookProcess starts it. */
export interface HookProcessOptions {
  /** Executed as it is (an absolute path): no PATH search, no /bin/sh for a file without #!. */
  path: string;
  /** argv[0] included. */
  argv: string[];
  /** The whole environment, "NAME=value" each. */
  env: string[];
  /** Where it starts; undefined: tsrun's own directory. */
  cwd?: string;
  /** What its stdin pipe carries (the container's state). */
  input: Buffer;
  /** Killed (SIGKILL) and reaped once this has passed. */
  timeoutMs?: number;
  /** How many of the last bytes of each output stream are kept. */
  keep: number;
}

/** One output stream of a hook: its last bytes (HookProcessOptions.keep) and its length. */
export interface HookOutput {
  tail: Buffer;
  bytes: number;
}

export interface HookProcessResult {
  /** Exit status when it exited, else null. */
  status: number | null;
  /** The signal that ended it, with Go's words for it ("killed"), else null. */
  signal: { number: number; text: string } | null;
  stdout: HookOutput;
  stderr: HookOutput;
  timedOut: boolean;
}

export interface NativeAddon {
  /** posix_spawn the init program from a binary no container can write (a read-only overlay, else a sealed memfd copy). */
  spawnInit(options: SpawnInitOptions): SpawnedInit;
  /**
   * Spawns tsrun-init on a thread of the addon's, waiting for the fds of its layout,
   * which the next spawnInit sends it instead of spawning one (bin/tsrun calls this).
   * The thread first reads `readFirst` for readLatin1 and readBytes to take.
   */
  spawnInitAhead(readFirst?: readonly string[]): void;
  /** Ends and reaps an init spawned ahead that no spawnInit has taken; nothing without one. */
  releaseInitAhead(): void;
  /** The pid of the init spawned ahead the next spawnInit will use, or undefined. */
  initSpawnedAheadPid(): number | undefined;
  /**
   * Runs a hook with pipes for its stdio and fds 0-2 only, and waits for it and its
   * output (addon/native/hook-process.cpp). Throws (code, errno) when it cannot start.
   */
  runHookProcess(options: HookProcessOptions): HookProcessResult;
  /** Blocking receive of one message; null at EOF (every init process has gone). */
  syncRecv(fd: number): string | null;
  syncSend(fd: number, message: string): void;
  /** The fd in the packet the init sends after announcing one (`seccomp listener`, `netns`, `netlink socket`). */
  syncRecvFd(syncFd: number, what: string): number;
  closeFd(fd: number): void;
  /** pipe2(O_CLOEXEC): [read end, write end]. */
  pipe(): [number, number];
  /** isatty(3), without Node's tty module (which loads net). */
  isatty(fd: number): boolean;
  /** Whether we are in the foreground process group of terminal fd (tcgetpgrp == getpgrp). */
  inForeground(fd: number): boolean;
  /**
   * Starts copying, on a thread of the addon's, fd 0 into stdinTo and stdoutFrom /
   * stderrFrom into fds 1 / 2 (each a pipe end of ours, or -1): the ends become the
   * copier's (addon/native/stdio-copy.cpp), closed by it also when this throws. One
   * copier at a time.
   */
  startStdioCopy(stdinTo: number, stdoutFrom: number, stderrFrom: number): void;
  /** Ends stdin's copy, then blocks until both outputs have reached EOF. */
  finishStdioCopy(): void;
  /** Ends every copy now. */
  abandonStdioCopy(): void;
  /**
   * waitpid(pid, 0): blocking. With reapOthers, every other child that ends first is
   * reaped too (the orphans a subreaper inherits): only for a caller with no other
   * child whose end it waits for.
   */
  waitPid(pid: number, reapOthers?: boolean): WaitResult;
  /** waitPid on a worker thread of libuv's pool; resolves when the process ends. */
  waitPidAsync(pid: number, reapOthers?: boolean): Promise<WaitResult>;
  /** prctl(PR_SET_CHILD_SUBREAPER, on ? 1 : 0); on by default. */
  setChildSubreaper(on?: boolean): void;
  mkfifo(path: string, mode: number): void;
  /** open(path, O_PATH | O_CLOEXEC) */
  openPath(path: string): number;
  /**
   * Wait, on the exec FIFO's read end `fd` (opened O_NONBLOCK, handed over), until the
   * init writes its handshake byte, or until the process `pid` dies (pidfd). Returns
   * that fd, which the caller then hands to drainFifo, with what was read so far (the
   * handshake first: see parseStartReport); null, the fd closed, when the init died
   * before writing anything.
   */
  releaseFifo(fd: number, pid: number): { fd: number; head: string } | null;
  /**
   * Read the exec FIFO releaseFifo opened until the init's end closes (its execve, or
   * its exit), then close it (also on failure). Returns what it read.
   */
  drainFifo(fd: number): string;
  /** flock on an open fd; returns false when nonBlocking and the lock is held. */
  flock(fd: number, exclusive: boolean, nonBlocking: boolean): boolean;
  /** renameat2(RENAME_NOREPLACE): never replaces an existing (even empty) directory; EEXIST. */
  renameNoReplace(from: string, to: string): void;
  /** renameat2(RENAME_EXCHANGE); false (nothing swapped) on ENOENT or EINVAL. */
  exchangeFiles(from: string, to: string): boolean;
  /**
   * Wait (pidfd + poll, no polling loop) until `pid` has exited, at most timeoutMs.
   * Works for processes that are not our children. True when it is gone.
   */
  waitExit(pid: number, timeoutMs: number): boolean;
  /**
   * kill through a pidfd. With `startTime` (field 22 of /proc/<pid>/stat, as recorded
   * in state.json) the process is checked after the pidfd is open, so a process that
   * reused the pid is never signalled (ESRCH).
   */
  pidfdKill(pid: number, signal: number, startTime?: string): void;
  /** A copy of fd `fd` of process `pid` (pidfd_getfd(2), close-on-exec). */
  pidfdGetFd(pid: number, fd: number): number;
  /**
   * A SOCK_STREAM connection to an AF_UNIX socket (e.g. --console-socket), O_CLOEXEC.
   * With timeoutMs, a read or write of it that waits longer fails with EAGAIN.
   */
  connectUnix(path: string, timeoutMs?: number): number;
  /** socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC): [a, b]. */
  socketPair(): [number, number];
  /** Blocking receive of one SCM_RIGHTS fd; `name` is the message text; null at EOF. */
  recvFd(fd: number): { fd: number; name: string } | null;
  /** ioctl(TIOCSWINSZ) on a terminal fd. */
  setWindowSize(fd: number, rows: number, cols: number): void;
  /** A terminal's size (TIOCGWINSZ). */
  getWindowSize(fd: number): { rows: number; cols: number };
  /** cfmakeraw(3) on a terminal but output processing kept: no input processing, no echo, no signal keys (runc's raw mode). */
  makeRaw(fd: number): void;
  /** O_NONBLOCK on the fd's open file description. */
  setNonBlocking(fd: number): void;
  /** What of `data` the fd takes now without blocking (0: nothing, EAGAIN); the fd's blocking mode is left as it was. */
  writeAvailable(fd: number, data: Buffer): number;
  /** A read-only fd (O_NOCTTY, O_CLOEXEC) of a pty's slave side, opened through its master (TIOCGPTPEER). */
  openPtyPeer(master: number): number;
  /**
   * Build a BPF program with libseccomp (dlopen()ed as `soname`) and export it. Syscall
   * names the library does not know are skipped and listed. Throws code ELIBSECCOMP
   * when the library cannot be loaded, EARCH for an architecture it does not know.
   */
  seccompCompile(filter: NativeSeccompFilter, soname: string): { bpf: Buffer; unknownSyscalls: string[]; version: string };
  /** The libseccomp seccompCompile builds with (loaded now): its version and the file the soname resolved to ("" if unknown). Throws ELIBSECCOMP as seccompCompile. */
  seccompLibrary(soname: string): { version: string; path: string };
  /** 64-bit FNV-1a of the text's UTF-8 bytes, 16 hex digits: a cache file's name, no proof of anything. */
  hash64(text: string): string;
  /** Whether this kernel's seccomp(2) takes these SECCOMP_FILTER_FLAG_* bits (probed with no filter: nothing is installed). */
  seccompFilterFlagsSupported(flags: number): boolean;
  /**
   * For each architecture (libseccomp's name), the highest number any of `names` has
   * there (unknown names and negative pseudo-numbers left out), -1 when none has one.
   * Throws code EARCH for an architecture the library does not know.
   */
  seccompHighestSyscalls(architectures: string[], names: string[], soname: string): number[];
  /** Connect to a seccomp listener socket and send the process state JSON with the fd. */
  seccompSendToListener(path: string, state: string, fd: number): void;
  /**
   * Load a BPF_PROG_TYPE_CGROUP_DEVICE program (encoded struct bpf_insn array) and
   * attach it to the cgroup v2 dir with BPF_F_ALLOW_MULTI, then detach the device
   * programs attached there before. A verifier rejection's log is in the error.
   */
  attachDeviceFilter(cgroupDir: string, insns: Buffer): void;
  /** BPF_PROG_QUERY: ids of the device programs attached to that cgroup itself. */
  deviceFilterIds(cgroupDir: string): number[];
  /**
   * linux.netDevices: moves device hostName out of tsrun's network namespace into
   * netnsFd, renamed to name, with its permanent global addresses, and up, acting in
   * that namespace through netlinkFd (a NETLINK_ROUTE socket made there with tsrun's
   * credentials).
   */
  moveNetDevice(netnsFd: number, netlinkFd: number, hostName: string, name: string): { name: string; wasUp: boolean };
  /**
   * Moves a device moveNetDevice moved (now `name` in the container's namespace) back
   * into tsrun's as hostName, with its addresses and up state (best effort); says
   * where it ended up.
   */
  returnNetDevice(netnsFd: number, netlinkFd: number, hostName: string, name: string, wasUp: boolean): string;
  /** What moveNetDevice checks before the device leaves tsrun's namespace, alone: throws where it would. */
  checkNetDevice(netnsFd: number, netlinkFd: number, hostName: string, name: string): void;
  /**
   * cgroup v1: an eventfd (O_CLOEXEC) the kernel signals at each OOM in that memory
   * cgroup, and when the cgroup is removed (registered through cgroup.event_control).
   */
  oomEventFd(memoryCgroupDir: string): number;
  /**
   * Whether the user namespace open at userFd, or one of its descendants, owns the
   * namespace open at fd (ioctl NS_GET_USERNS, then NS_GET_PARENT up the chain).
   */
  namespaceOwnedWithin(fd: number, userFd: number): boolean;
  /**
   * A datagram socket bound at <dir>/notify.sock (mode 0777), O_CLOEXEC; a socket file
   * already there is replaced, any other file is an error (sd-notify.ts).
   */
  notifyListen(dir: string): number;
  /**
   * The first READY= line received on the socket fd, or null once the process `pid`
   * has ended without sending one (with startTime: or the pid is another process's;
   * pid 0: ended already, only what is queued counts).
   */
  notifyAwaitReady(fd: number, pid: number, startTime?: string): string | null;
  /** notifyAwaitReady on a thread of libuv's pool. */
  notifyAwaitReadyAsync(fd: number, pid: number, startTime?: string): Promise<string | null>;
  /** Each message as one datagram to the AF_UNIX socket `target` ("@name": abstract). */
  notifySend(target: string, messages: readonly string[]): void;
  /** CLOCK_REALTIME as [seconds, nanoseconds]. */
  realtime(): [number, number];
  /** [SIGRTMIN, SIGRTMAX] as the libc numbers them: the signals Node has no names for. */
  realtimeSignals(): [number, number];
  /** The numbers of these standard signals (SIGHUP, ...) on this architecture. */
  signalNumbers(names: readonly string[]): number[];
  /**
   * Catches these signals (one set at a time: dispositions are the process's) and holds
   * them, one of each, until forwardSignalsTo names their process.
   */
  catchSignals(signals: readonly number[]): void;
  /**
   * From now on a sigaction handler passes the caught signals, and these jobControl ones,
   * straight on to this process (through a pidfd), what was held first. false, and
   * nothing forwarded, when the process is gone or (with startTime) the pid reused.
   */
  forwardSignalsTo(pid: number, startTime: string | undefined, jobControl: readonly number[]): boolean;
  /** Nothing goes to the process any more; the jobControl signals have their actions back. */
  stopForwardingSignals(): void;
  /** Every caught signal has the action it had before; nothing caught: nothing to do. */
  releaseSignals(): void;
  /** _exit(2): ends the process at once (see exitProcess); `helper` false: no exit helper. */
  exitNow(code: number, helper?: boolean): never;
  /** Puts /dev/null in place of each of fds 0-2 that is a hung-up terminal; returns those fds. */
  releaseHungUpStdio(): number[];
  /** The whole file as a Latin-1 string held outside V8's heap (the CLI's own sources). */
  readLatin1(path: string): string;
  /** The whole file as a Buffer over memory outside V8's heap (the CLI's code caches). */
  readBytes(path: string): Buffer;
  // File operations as plain syscalls (addon/native/file-ops.cpp; used through src/host-files.ts).
  /** The file's text (UTF-8), read to its end. */
  readText(path: string): string;
  /** The file's text, or null on ENOENT. */
  readTextIfExists(path: string): string | null;
  /** 'file', 'dir', 'symlink', 'fifo', 'socket', 'char', 'block' (lstat, stat with follow); null on ENOENT or ENOTDIR. */
  fileKind(path: string, follow: boolean): string | null;
  /** Whether path (lstat) is the file open at fd; false on ENOENT. */
  sameFile(fd: number, path: string): boolean;
  /** mkdir(2); false on EEXIST. */
  makeDir(path: string, mode: number): boolean;
  removeDir(path: string): void;
  removeFile(path: string): void;
  /** open(2) with O_CLOEXEC added. */
  openFile(path: string, flags: number, mode: number): number;
  /** open(2) (O_CLOEXEC added), write all of text, close. */
  writeFile(path: string, text: string, flags: number, mode: number): void;
  /** One write(2); the count written. */
  writeOnce(fd: number, text: string): number;
  renameFile(from: string, to: string): void;
  /** The names in a directory but . and .. (readdir order). */
  listDir(path: string): string[];
  /** The names of the directories in a directory (no symlinks), readdir order. */
  listSubdirectories(path: string): string[];
  /** A symlink's target; null on ENOENT. */
  readLink(path: string): string | null;
  /** fstat (what NativeFileFacts holds); null when fd is not open. */
  statFd(fd: number): NativeFileFacts | null;
  /** lstat (stat with follow) as statFd; null on ENOENT or ENOTDIR. */
  statPath(path: string, follow: boolean): NativeFileFacts | null;
  /** All of text, waiting for room on a non-blocking pipe. */
  writeText(fd: number, text: string): void;
  /** chmod(2). */
  changeMode(path: string, mode: number): void;
  /** The text (UTF-8) from the fd's offset to its end. */
  readFd(fd: number): string;
  /** futimens(fd, now). */
  touchFd(fd: number): void;
  /** The plan's bytes (addon/PROTOCOL.md), as src/linux/plan-encoding.ts writes them, in C++. */
  encodePlan(ops: readonly PlanOp[]): Buffer;
}

/** What statFd and statPath tell of a file. */
export interface NativeFileFacts {
  kind: string;
  /** "dev:ino": equal for the same file. */
  id: string;
  /** The device a device node stands for, in decimal. */
  rdev: string;
  uid: number;
  /** The permission bits (st_mode & 07777). */
  mode: number;
  size: number;
  /** st_mtim in nanoseconds, in decimal. */
  mtimeNs: string;
}

/** SeccompFilter (src/linux/seccomp.ts) with 64-bit values as decimal strings. */
export interface NativeSeccompFilter {
  defaultAction: number;
  architectures: string[];
  rules: { syscall: string; action: number; conditions: { arg: number; op: number; a: string; b: string }[] }[];
}

/** What process.dlopen makes of the addon (addon/native/module.cpp). */
export interface AddonModule {
  /** The function of that name, made now; undefined for a name the addon has none of. */
  functionNamed(name: string): unknown;
  /** Every name functionNamed knows. */
  functionNames(): string[];
}

/**
 * The addon's functions as one object, each made the first time it is asked for: V8
 * takes ~3.5 us to make one, and a command uses a few of the ~80. A spread or
 * Object.keys sees only those made so far. scripts/launcher.js makes the same object
 * for bin/tsrun.
 */
export function addonFunctions(module: AddonModule): NativeAddon {
  const made: Record<string, unknown> = Object.create(null);
  const get = (target: Record<string, unknown>, name: string | symbol): unknown =>
    typeof name !== 'string' ? undefined : name in target ? target[name] : (target[name] = module.functionNamed(name));
  return new Proxy(made, { get }) as unknown as NativeAddon;
}

let loaded: NativeAddon | undefined;

/** The addon, loaded on first use where bin/tsrun has not loaded it already (tests load dist/src directly). */
export function native(): NativeAddon {
  // bin/tsrun loads it before the bundle (scripts/launcher.js): the same module.
  loaded ??= (globalThis as { __tsrunAddon?: NativeAddon }).__tsrunAddon;
  if (!loaded) {
    // process.dlopen is what require() ends with for a .node file; called directly it
    // skips the module resolution (stat calls, package.json lookups) every command paid.
    const addon = { exports: {} };
    process.dlopen(addon, path.join(__dirname, '..', '..', 'build', 'Release', 'tsrun_native.node'));
    loaded = addonFunctions(addon.exports as AddonModule);
  }
  return loaded;
}

/**
 * Ends the process with `code`, through the addon's exitNow when it can be loaded:
 * _exit, with the kernel's freeing of Node's memory (4-6 ms) left to a helper that
 * outlives this process (addon/native/exit.cpp), so the caller learns of the exit
 * without waiting for it. Node's own exit would also join its threads and tear the
 * isolate down first; tsrun writes its output, logs and files synchronously.
 * process.exit instead: after process.stdin/stdout were used (Node restores a
 * terminal's mode and the fds' blocking mode at its exit: a foreground run -t or
 * exec -t); in a node run with flags (but the one of bin/tsrun's #! line) or
 * NODE_OPTIONS (--cpu-prof, coverage...), which write their files then; and without a
 * loadable addon. A stdio terminal that hung up is put aside first: Node's exit
 * would abort on it.
 */
export function exitProcess(code: number): never {
  // Never left to the caller as an orphan: its exit would reach a shim or conmon that
  // reaps orphans and has never heard of it.
  if ((globalThis as { __tsrunInitAhead?: boolean }).__tsrunInitAhead) {
    try {
      addonForExit()?.releaseInitAhead();
    } catch {
      // an addon without it: at our exit the init reads EOF and exits, an orphan then
    }
  }
  const plain = process.execArgv.every((flag) => flag === LAUNCHER_NODE_OPTION) && !process.env.NODE_OPTIONS && !process.env.NODE_V8_COVERAGE;
  if (plain && !stdioStreamsUsed()) addonForExit()?.exitNow(code, exitHelperWanted);
  // Node's exit would abort on a stdio terminal that hung up (its ssh gone during run
  // -t), whether JavaScript used it or not. Best effort: the exit comes in any case.
  try {
    addonForExit()?.releaseHungUpStdio();
  } catch {
    // no /dev/null or no fd left: Node's exit as it is
  }
  process.exit(code);
}

let exitHelperWanted = true;

/**
 * This command ends without the exit helper: its caller must see no child of tsrun's
 * but the ones it asked for (see lifecycle/exec.ts).
 */
export function endWithoutExitHelper(): void {
  exitHelperWanted = false;
}

function addonForExit(): NativeAddon | undefined {
  try {
    return native();
  } catch {
    return undefined; // not built: tsrun ends the ordinary way
  }
}

/** Path of the static init program built next to the addon. */
export function initProgramPath(): string {
  return path.join(__dirname, '..', '..', 'build', 'Release', 'tsrun-init');
}
