// Test seam for crash injection (test/reliability/crash.test.ts), used by the
// lifecycle steps and the state store alike. A step (or the store, between its mkdir
// or rename and the next one) calls crashPoint('<command>:<phase>') between two
// side effects; when the environment variable TSRUN_TEST_CRASH_AT names that point,
// tsrun SIGKILLs itself there, exactly as an OOM kill or a node reboot of the caller
// would.
// Nothing runs in a normal run but one environment lookup per point. The tests
// then prove that `delete --force` removes whatever the dead command left.

/** Kills this process with SIGKILL when TSRUN_TEST_CRASH_AT equals `point`. */
export function crashPoint(point: string): void {
  if (process.env.TSRUN_TEST_CRASH_AT === point) process.kill(process.pid, 'SIGKILL');
}
