'use strict';
// Starting a daemon (containerd, dockerd) for the e2e suites as a service manager
// would: with stdio only. The test runner may hold fds without close-on-exec (251,
// from whatever started it), which the daemon would pass on to shims and runtimes.
// Plain Node, no build step (the containerd harness is run by hand too).

const { spawn } = require('child_process');

// bash closes every fd above 2, then execs the daemon. Each close has its own
// 2>/dev/null: one on the whole loop would make bash save fd 2 above 9, which the
// loop then closes, and the daemon would be left with /dev/null as its stderr (its
// log file empty).
const CLOSE_FDS_THEN_EXEC =
  'for f in /proc/$$/fd/*; do n=${f##*/}; if [ "$n" -gt 2 ]; then eval "exec $n>&-" 2>/dev/null; fi; done; exec "$0" "$@"';

/**
 * Spawns `binary args` with stdin closed and stdout and stderr on `logFd`, and no
 * other fd.
 * @param {string} binary
 * @param {string[]} args
 * @param {number} logFd
 * @param {NodeJS.ProcessEnv} env
 * @returns {import('child_process').ChildProcess}
 */
function spawnWithStdioOnly(binary, args, logFd, env) {
  return spawn('/bin/bash', ['-c', CLOSE_FDS_THEN_EXEC, binary, ...args], { stdio: ['ignore', logFd, logFd], env });
}

module.exports = { spawnWithStdioOnly };
