// A device cgroup rule's access: the spec makes it of r, w and m, and runc drops any
// other letter ("rwa" is "rw" to it; its own tests write such a rule), so a config
// runc runs is not refused here. Said, since a letter that was meant to
// grant something grants nothing.
import type { Spec } from './types';

const ACCESS_LETTERS = 'rwm';

/** Drops letters other than r, w and m from linux.resources.devices[].access, with a warning for each rule changed. */
export function deviceAccessAsRuncReadsIt(spec: Spec, warn: (message: string) => void): void {
  (spec.linux?.resources?.devices ?? []).forEach((rule, i) => {
    if (rule.access === undefined) return;
    const unknown = [...rule.access].filter((c) => !ACCESS_LETTERS.includes(c));
    if (unknown.length === 0) return;
    const kept = [...rule.access].filter((c) => ACCESS_LETTERS.includes(c)).join('');
    warn(`linux.resources.devices[${i}].access: ${JSON.stringify(rule.access)} is read as ${JSON.stringify(kept)}, as runc reads it (a device access is made of r, w and m)`);
    rule.access = kept;
  });
}
