// Steps the docker and podman suites share: the two engines take the same commands.
import type { RunResult } from '../helpers/runtime';
import { sleep } from '../helpers/runtime';

/** The script of a detached container that says it started and ends with status 3 at SIGTERM. */
export const TERM_TRAP_SCRIPT = 'trap "echo got-term; exit 3" TERM; echo started; while true; do sleep 0.1; done';

/**
 * `stop` of a container running TERM_TRAP_SCRIPT: its trap's status is recorded, both
 * lines are in its log, and `rm` removes it. `ok` runs an engine command that must succeed.
 */
export async function stopsThroughItsTrap(ok: (args: string[]) => RunResult, name: string): Promise<void> {
  ok(['stop', '--time', '10', name]);
  expect(ok(['inspect', '--format', '{{.State.ExitCode}}', name]).stdout.trim()).toBe('3');
  // The engine's log copier (the shim's, conmon) may write the last line just after the exit is recorded.
  let logs = '';
  for (let i = 0; i < 40 && !logs.includes('got-term'); i++, await sleep(25)) logs = ok(['logs', name]).stdout;
  expect(logs).toBe('started\ngot-term\n');
  ok(['rm', name]);
}
