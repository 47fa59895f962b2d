#!/usr/bin/env node
// Test runner behind `npm test` (and `npm run test:unit` with --unit).
//
//  1. installs the Debian packages the container tests need (when root);
//  2. builds the project if dist/ or the addon is missing (tests run the
//     compiled JS in dist/test, not the TypeScript);
//  3. runs jest in band (tests create real containers; the machine has two
//     cores and the suites share cgroups and /proc), with the normal reporter
//     on the terminal and a JSON report in a temp file;
//  4. prints exactly one summary line, `N passed, N failed[, N skipped]`, and
//     exits non-zero if any test failed or any suite failed to run.
//
// No jest config file: every option is passed here on the command line.
// Extra arguments are handed to jest (e.g. `npm test -- -t lifecycle`).
// `--build` forces a rebuild even when the build exists.

'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn, spawnSync } = require('child_process');

const repo = path.resolve(__dirname, '..');
const argv = process.argv.slice(2);
const unit = argv.includes('--unit');
const forceBuild = argv.includes('--build');
const jestExtra = argv.filter((a) => a !== '--unit' && a !== '--build');

function summary(passed, failed, skipped) {
  // The one line CI and people read; keep the format stable.
  console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
}

function die(message) {
  console.error(`run-tests: ${message}`);
  summary(0, 1, 0);
  process.exit(1);
}

function run(cmd, args, opts = {}) {
  return spawnSync(cmd, args, { cwd: repo, stdio: 'inherit', ...opts });
}

// 1. Test dependencies. The script never fails the run by itself: tests that
//    need a missing package skip or fail with their own reason.
if (!unit) {
  const r = run('bash', [path.join(repo, 'scripts', 'install-test-deps.sh')]);
  if (r.status !== 0) console.error('run-tests: install-test-deps.sh failed; continuing');
}

// 2. Build when needed.
const needBuild =
  forceBuild ||
  !fs.existsSync(path.join(repo, 'dist')) ||
  !fs.existsSync(path.join(repo, 'build', 'Release')) ||
  // A build output since it names the node that built it (scripts/bundle.js).
  !fs.existsSync(path.join(repo, 'bin', 'tsrun'));
if (needBuild) {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const r = run(npm, ['run', 'build']);
  if (r.status !== 0) die(`npm run build failed (exit ${r.status ?? r.signal})`);
}

const testRoot = path.join(repo, 'dist', 'test', ...(unit ? ['unit'] : []));
if (!fs.existsSync(testRoot)) die(`${path.relative(repo, testRoot)} does not exist: did the TypeScript build include test/?`);

// 3. Jest.
const jestBin = require.resolve('jest/bin/jest', { paths: [repo] });
const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-jest-'));
const jsonFile = path.join(tmpDir, 'results.json');
const jestArgs = [
  jestBin,
  '--rootDir', testRoot,
  '--runInBand',
  '--ci',
  // Fallback only; container suites set their own, longer, timeouts.
  '--testTimeout', '30000',
  '--json', '--outputFile', jsonFile,
  // Unit tests may not exist yet on a fresh tree: report 0 rather than crash.
  '--passWithNoTests',
  ...jestExtra,
];
const env = { ...process.env };
// Adds ~40 ms to every Node start (including every tsrun the tests run).
delete env.NODE_EXTRA_CA_CERTS;

// Async spawn so that a SIGTERM/SIGHUP sent to this runner alone reaches jest
// too (it then stops instead of leaving containers running unobserved).
// SIGINT from a terminal already reaches jest through the process group, so it
// is only swallowed here, to let jest finish and report.
const child = spawn(process.execPath, jestArgs, { cwd: repo, stdio: 'inherit', env });
process.on('SIGINT', () => {});
for (const sig of ['SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    try {
      child.kill(sig);
    } catch {
      /* already gone */
    }
  });
}
child.on('error', (e) => die(`cannot start jest: ${e.message}`));
child.on('exit', (status, signal) => finish({ status, signal }));

function finish(jestRun) {
  // 4. Summary: counts from the JSON, cross-checked with jest's exit status.
  let results;
  try {
    results = JSON.parse(fs.readFileSync(jsonFile, 'utf8'));
  } catch (e) {
    results = undefined;
  }
  fs.rmSync(tmpDir, { recursive: true, force: true });

  if (!results) {
    die(`jest produced no readable results (exit ${jestRun.status ?? jestRun.signal})`);
  }

  const passed = results.numPassedTests || 0;
  const skipped = (results.numPendingTests || 0) + (results.numTodoTests || 0);
  let failed = results.numFailedTests || 0;

  // A suite that could not run (syntax error, failing import, a throwing
  // beforeAll/afterAll at file level) reports no failed test: count each one.
  const brokenSuites = (results.testResults || []).filter(
    (s) => s.testExecError || (s.status === 'failed' && !(s.assertionResults || []).some((a) => a.status === 'failed')),
  );
  for (const s of brokenSuites) {
    const msg = (s.testExecError && s.testExecError.message) || s.message || 'suite failed';
    // First line that says something: skip ANSI colours and jest's own heading.
    const line = msg
      .replace(/\u001b\[[0-9;]*m/g, '')
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l && !l.startsWith('●'));
    console.error(`run-tests: suite failed to run: ${path.relative(repo, s.name)}: ${line || 'no message'}`);
  }
  failed += brokenSuites.length;

  const jestFailed = jestRun.status !== 0 || results.success === false;
  if (jestFailed && failed === 0) {
    // Jest says failure but no test or suite explains it (e.g. an internal error,
    // killed by a signal): never report success.
    console.error(`run-tests: jest exited with ${jestRun.status ?? jestRun.signal} without a failing test`);
    failed = 1;
  }

  summary(passed, failed, skipped);
  process.exit(failed > 0 ? 1 : 0);
}
