// Facts about the host that the planners take as input (they read nothing themselves).
import * as fs from 'fs';

/** /proc/sys/kernel/cap_last_cap: capabilities above it do not exist on this kernel. */
export function lastCapability(): number {
  try {
    return Number(fs.readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8').trim());
  } catch {
    return 40;
  }
}
