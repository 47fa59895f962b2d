#!/usr/bin/env node
// The README's demo: builds a bundle whose rootfs holds only tsrun-demo (a static
// program built by this project's CMake), runs it as a real container through
// bin/tsrun, and removes everything afterwards.
'use strict';
const { execFileSync, spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const repo = path.resolve(__dirname, '..');
const tsrun = path.join(repo, 'bin', 'tsrun');
const demoBinary = path.join(repo, 'build', 'Release', 'tsrun-demo');

if (process.getuid && process.getuid() !== 0) {
  console.error('The demo creates namespaces, mounts and cgroups: run it as root (sudo npm run demo).');
  process.exit(1);
}
if (!fs.existsSync(demoBinary)) {
  console.error(`${demoBinary} is missing: run npm ci (or npm run build) first.`);
  process.exit(1);
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-demo-'));
const bundle = path.join(work, 'bundle');
const root = path.join(work, 'state');
const id = `demo-${process.pid}`;
const cgroupParent = `tsrun-demo-${process.pid}`;
let status = 1;
try {
  fs.mkdirSync(path.join(bundle, 'rootfs'), { recursive: true });
  fs.copyFileSync(demoBinary, path.join(bundle, 'rootfs', 'demo'));
  fs.chmodSync(path.join(bundle, 'rootfs', 'demo'), 0o755);
  execFileSync(tsrun, ['spec', '--bundle', bundle], { stdio: 'inherit' });
  const configPath = path.join(bundle, 'config.json');
  const config = JSON.parse(fs.readFileSync(configPath, 'utf8'));
  config.process.terminal = false;
  config.process.args = ['/demo'];
  config.hostname = 'tsrun-demo';
  config.linux.cgroupsPath = `/${cgroupParent}/${id}`;
  fs.writeFileSync(configPath, JSON.stringify(config, null, 2));
  console.log(`$ tsrun run --bundle ${bundle} ${id}`);
  const r = spawnSync(tsrun, ['--root', root, 'run', '--bundle', bundle, id], { stdio: 'inherit' });
  status = r.status ?? 1;
  console.log(`container exited with status ${status}`);
} finally {
  spawnSync(tsrun, ['--root', root, 'delete', '--force', id], { stdio: 'ignore' });
  for (const hierarchy of fs.existsSync('/sys/fs/cgroup') ? fs.readdirSync('/sys/fs/cgroup') : []) {
    try {
      fs.rmdirSync(path.join('/sys/fs/cgroup', hierarchy, cgroupParent));
    } catch {
      // not there, or not a hierarchy
    }
  }
  fs.rmSync(work, { recursive: true, force: true });
}
process.exit(status);
