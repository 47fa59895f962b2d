'use strict';
// What the test suites (test/helpers/cleanup.ts) and the containerd harness
// (scripts/containerd/harness.js) see of the host and may clean up in it:
// processes, mounts and cgroups *within a scope* they created -- a cgroup parent of
// their own, rootfs dirs they made, a temp dir. Processes are signalled by PID only,
// and only when they are inside that scope. Plain Node, no build step (the harness
// is run by hand too); TypeScript reads the JSDoc types.

const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

/** @param {number} ms */
function sleepSync(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * State letter and comm of /proc/<pid>/stat, or undefined once it is gone.
 * @param {number} pid
 * @returns {{ state: string, comm: string } | undefined}
 */
function procState(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = stat.lastIndexOf(')');
    return { state: stat.slice(close + 2, close + 3), comm: stat.slice(stat.indexOf('(') + 1, close) };
  } catch {
    return undefined;
  }
}

/**
 * Alive and not a zombie: a zombie holds nothing, and its parent will reap it.
 * @param {number} pid
 * @returns {boolean}
 */
function pidAlive(pid) {
  const st = procState(pid);
  return !!st && st.state !== 'Z' && st.state !== 'X';
}

/** @returns {number[]} */
function allPids() {
  return fs
    .readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .map(Number);
}

/**
 * Decode the octal escapes mountinfo uses for spaces, tabs, newlines and backslashes.
 * @param {string} s
 */
function unescapeMount(s) {
  return s.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)));
}

/** @returns {{ mountPoint: string, fstype: string }[]} */
function hostMounts() {
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [pre, post] = l.split(' - ');
      return { mountPoint: unescapeMount(pre.split(' ')[4]), fstype: post.split(' ')[0] };
    });
}

/**
 * Host mount points at or under dir, deepest first.
 * @param {string} dir
 * @returns {string[]}
 */
function mountsUnder(dir) {
  return hostMounts()
    .map((m) => m.mountPoint)
    .filter((m) => m === dir || m.startsWith(dir + '/'))
    .sort((a, b) => b.length - a.length);
}

/**
 * Lazily unmounts everything under dir (a busy mount cannot block cleanup);
 * returns what is still mounted.
 * @param {string} dir
 * @returns {string[]}
 */
function unmountUnder(dir) {
  for (const m of mountsUnder(dir)) spawnSync('umount', ['-l', m], { stdio: 'ignore' });
  return mountsUnder(dir);
}

/**
 * Every cgroup hierarchy mounted on the host (v1 controllers, named hierarchies
 * such as name=systemd, and the v2 unified one), taken from mountinfo rather than
 * guessed, so both hybrid and pure-v2 hosts work.
 * @returns {string[]}
 */
function cgroupHierarchies() {
  const seen = new Set();
  for (const m of hostMounts()) if (m.fstype === 'cgroup' || m.fstype === 'cgroup2') seen.add(m.mountPoint);
  return [...seen].sort();
}

/**
 * @param {string} dir
 * @param {string[]} out
 */
function walkDirs(dir, out) {
  let entries;
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    if (e.isDirectory()) {
      const p = path.join(dir, e.name);
      out.push(p);
      walkDirs(p, out);
    }
  }
}

/**
 * The dirs of a cgroup parent (e.g. `/tsrun-test-1a2b`) in every hierarchy, parent
 * first, children after; parentDir is the parent's dir in that hierarchy.
 * @param {string} parent
 * @returns {{ hierarchy: string, dir: string, parentDir: string }[]}
 */
function cgroupDirsOf(parent) {
  const res = [];
  for (const h of cgroupHierarchies()) {
    const parentDir = path.join(h, parent);
    if (!fs.existsSync(parentDir)) continue;
    const dirs = [parentDir];
    walkDirs(parentDir, dirs);
    for (const dir of dirs) res.push({ hierarchy: h, dir, parentDir });
  }
  return res;
}

/**
 * True when pid is in the cgroup parent or below it, in any hierarchy.
 * @param {number} pid
 * @param {string} parent
 * @returns {boolean}
 */
function inCgroupParent(pid, parent) {
  try {
    return fs
      .readFileSync(`/proc/${pid}/cgroup`, 'utf8')
      .split('\n')
      .some((l) => {
        const p = l.split(':').slice(2).join(':');
        return p === parent || p.startsWith(parent + '/');
      });
  } catch {
    return false;
  }
}

/**
 * Live processes of the scope: those in a cgroup under the parent (any hierarchy)
 * and those whose root directory is one of the rootfs dirs (compared by
 * device+inode: inside a container /proc/<pid>/root reads as "/"). Never this process.
 * @param {string} cgroupParent
 * @param {readonly string[]} rootfsDirs
 * @returns {number[]}
 */
function processesInScope(cgroupParent, rootfsDirs) {
  const roots = rootfsDirs.filter((r) => fs.existsSync(r)).map((r) => fs.statSync(r));
  const pids = [];
  for (const pid of allPids()) {
    if (pid === process.pid || !pidAlive(pid)) continue;
    let mine = inCgroupParent(pid, cgroupParent);
    if (!mine && roots.length) {
      try {
        const r = fs.statSync(`/proc/${pid}/root`);
        mine = roots.some((x) => x.dev === r.dev && x.ino === r.ino);
      } catch {
        /* gone, or a kernel thread */
      }
    }
    if (mine) pids.push(pid);
  }
  return pids;
}

/**
 * Thaws every frozen cgroup under the parent: a frozen task cannot die.
 * @param {string} parent
 */
function thawCgroups(parent) {
  for (const c of cgroupDirsOf(parent)) {
    for (const [file, thawed] of [['freezer.state', 'THAWED'], ['cgroup.freeze', '0']]) {
      try {
        if (fs.readFileSync(path.join(c.dir, file), 'utf8').trim() !== thawed) fs.writeFileSync(path.join(c.dir, file), thawed);
      } catch {
        /* not this hierarchy */
      }
    }
  }
}

/**
 * SIGKILLs, by PID, what `pids()` lists until it lists nothing (about 5 s at
 * most); `beforeEach` runs before every listing. Returns the pids still alive.
 * @param {() => number[]} pids
 * @param {() => unknown} [beforeEach]
 * @returns {number[]}
 */
function killUntilGone(pids, beforeEach = () => undefined) {
  let left = [];
  for (let attempt = 0; attempt < 100; attempt++) {
    beforeEach();
    left = pids();
    if (!left.length) return [];
    for (const pid of left) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    sleepSync(50);
  }
  return left;
}

/**
 * rmdir of one cgroup dir, waiting a moment for a just-killed task to leave it.
 * @param {string} dir
 * @returns {string | undefined} the problem, if it could not be removed
 */
function removeCgroupDir(dir) {
  for (let attempt = 0; ; attempt++) {
    try {
      fs.rmdirSync(dir);
      return undefined;
    } catch (e) {
      const code = /** @type {NodeJS.ErrnoException} */ (e).code;
      if (code === 'ENOENT') return undefined;
      if (code === 'EBUSY' && attempt < 40) {
        sleepSync(50);
        continue;
      }
      return `cannot remove cgroup ${dir}: ${code}`;
    }
  }
}

module.exports = {
  sleepSync,
  procState,
  pidAlive,
  allPids,
  hostMounts,
  mountsUnder,
  unmountUnder,
  cgroupHierarchies,
  cgroupDirsOf,
  inCgroupParent,
  processesInScope,
  thawCgroups,
  killUntilGone,
  removeCgroupDir,
};
