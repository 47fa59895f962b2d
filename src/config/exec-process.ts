// The process spec of `exec`: either a process.json (validated against the
// schema, used as is) or the container's own process with runc's command-line
// overrides applied. Pure: the caller reads the files.
import { ConfigError, TsrunError } from '../errors';
import type { Process } from './types';
import { completeUser } from './process-user';
import { envEntryProblem, validateProcess } from './validate';
import { oneEntryPerName } from './environment';
import { parseSpecJson } from './json';
import { PROCESS_UINT64_FIELDS, takeExactUint64 } from './exact-uint64';

export interface ExecFlags {
  args: string[];
  env: string[];
  cwd?: string;
  /** `uid[:gid]`, numbers only (runc's format). */
  user?: string;
  additionalGids: number[];
  caps: string[];
  noNewPrivs?: boolean;
  tty?: boolean;
  apparmor?: string;
  processLabel?: string;
}

/** A process.json's text -> a validated Process; errors name the file and the field. */
export function parseProcessFile(text: string, file: string): Process {
  const raw = parseSpecJson(text, file);
  validateProcess(raw);
  takeExactUint64(raw, text, PROCESS_UINT64_FIELDS, 'process');
  const proc = raw as Process;
  proc.user = completeUser(proc.user);
  return proc;
}

/**
 * A process.json with what runc 1.1.5 takes from the container's own process where
 * the file leaves it out (its newInitConfig and finalizeNamespace): the
 * capabilities when there are none at all (`{}` stays empty), the AppArmor profile
 * and the SELinux label when absent or empty. Nothing else: noNewPrivileges is the
 * file's (false when absent), and absent rlimits stay absent (the process keeps the
 * ones it inherits), as runc does. The container's oomScoreAdj, which runc writes for
 * every exec'd process whatever the file says, is the exec planner's.
 */
export function withContainerDefaults(proc: Process, container: Process | undefined): Process {
  const p: Process = { ...proc };
  if (p.capabilities === undefined && container?.capabilities) p.capabilities = JSON.parse(JSON.stringify(container.capabilities)) as Process['capabilities'];
  if (!p.apparmorProfile && container?.apparmorProfile) p.apparmorProfile = container.apparmorProfile;
  if (!p.selinuxLabel && container?.selinuxLabel) p.selinuxLabel = container.selinuxLabel;
  return p;
}

function parseId(text: string, what: 'uid' | 'gid'): number {
  if (!/^\d+$/.test(text) || Number(text) > 0xffffffff) throw new ConfigError('--user', `parsing ${text} as int for ${what} failed`);
  return Number(text);
}

/**
 * runc's getProcess: start from config.json's process, replace args, add the -e
 * variables after the config's (a later one replaces an earlier one with the same
 * name, in place), and override what the flags set.
 */
export function processFromFlags(base: Process, flags: ExecFlags): Process {
  if (flags.args.length === 0) throw new TsrunError('process args cannot be empty');
  // structuredClone, not a JSON round trip: exact rlimits are BigInts.
  const p: Process = structuredClone(base);
  p.args = [...flags.args];
  if (flags.cwd) p.cwd = flags.cwd;
  if (flags.apparmor) p.apparmorProfile = flags.apparmor;
  if (flags.processLabel) p.selinuxLabel = flags.processLabel;
  if (flags.caps.length > 0) {
    const caps = (p.capabilities ??= {});
    // Like runc 1.1 (after CVE-2022-29162): never inheritable; ambient needs
    // inheritable to take effect, which capabilityMasks enforces.
    for (const c of flags.caps) {
      for (const set of ['bounding', 'effective', 'permitted', 'ambient'] as const) (caps[set] ??= []).push(c);
    }
  }
  p.env = mergeEnv(p.env ?? [], flags.env);
  p.terminal = flags.tty === true;
  // Only when given: `--no-new-privs=false` turns off the config's true (runc's IsSet).
  if (flags.noNewPrivs !== undefined) p.noNewPrivileges = flags.noNewPrivs;
  if (flags.user) {
    // Go's SplitN(user, ":", 2): the gid part keeps any further colon ("1000:1000:5"
    // is then refused), where split(':', 2) would drop the rest.
    const colon = flags.user.indexOf(':');
    const uid = colon < 0 ? flags.user : flags.user.slice(0, colon);
    if (colon >= 0) p.user.gid = parseId(flags.user.slice(colon + 1), 'gid');
    p.user.uid = parseId(uid, 'uid');
  }
  for (const gid of flags.additionalGids) {
    if (!Number.isInteger(gid) || gid < 0) throw new ConfigError('--additional-gids', `additional-gids must be a positive number ${gid}`);
    (p.user.additionalGids ??= []).push(gid);
  }
  if (!p.cwd) throw new ConfigError('process.cwd', 'Cwd property must not be empty');
  if (!p.cwd.startsWith('/')) throw new ConfigError('process.cwd', 'Cwd must be an absolute path');
  return p;
}

function mergeEnv(base: string[], extra: string[]): string[] {
  for (const kv of extra) {
    const problem = envEntryProblem(kv);
    if (problem) throw new TsrunError(problem);
  }
  return oneEntryPerName([...base, ...extra]);
}
