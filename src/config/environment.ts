// The process environment as runc's init leaves it (Go's os.Setenv, entry by entry).

/**
 * One entry per name: where the name first appears, with the value it was given
 * last. Passed on as they are, both copies would reach the process, and glibc's
 * getenv and the init's PATH lookup would take the first. Entries are valid ones
 * (a name, then "="): see envEntryProblem.
 */
export function oneEntryPerName(env: readonly string[]): string[] {
  const at = new Map<string, number>();
  const out: string[] = [];
  for (const kv of env) {
    const name = kv.slice(0, kv.indexOf('='));
    const i = at.get(name);
    if (i === undefined) {
      at.set(name, out.length);
      out.push(kv);
    } else {
      out[i] = kv;
    }
  }
  return out;
}
