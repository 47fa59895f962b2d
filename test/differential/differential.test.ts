// Differential: the same bundle under runc and under tsrun must give the
// container the same view of the world (DESIGN.md section 6). Each runtime gets
// its own temp dir, --root and cgroup parent; the outputs are normalised only
// for what necessarily differs (paths of bundles and cgroups, mount ids).
//
// The runtime compared against runc is TSRUN_TEST_RUNTIME (default bin/tsrun).
// Pointing it at runc itself validates this harness (every comparison must pass).
// Documented differences: mount *order* is not compared (sorted by mount point),
// only the mount options that matter; everything else must match exactly.

import * as fs from 'fs';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { runcSpec, Spec } from '../helpers/bundle';
import { RUNC_BINARY, RunResult, runtimeUnderTest, RuntimeCli } from '../helpers/runtime';
import { differentialSkipReason, describeIf, Suite, useSuite } from '../helpers/suite';

jest.setTimeout(120_000);

const BINARY = runtimeUnderTest();


/**
 * One script prints every probe as a `== name` section, so a configuration
 * costs one container run per runtime and each section is compared on its own.
 */
const PROBE = `
section() { echo "== $1"; }
section hostname; hostname
section pid; echo $$
section id; id
section cwd; pwd
section env; env | sort
section status; grep -E '^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs|Seccomp|Uid|Gid|Groups):' /proc/self/status
section ulimit-n; ulimit -n; ulimit -Hn
section umask; umask
section mountinfo; cat /proc/self/mountinfo
section cgroup; cat /proc/self/cgroup
section dev; for f in /dev/* /dev/pts/* /dev/shm /dev/mqueue; do
  if [ -L "$f" ]; then echo "$f -> $(readlink "$f")"; else stat -c '%n %F %a %t:%T %u:%g' "$f"; fi; done
section netdev; tail -n +3 /proc/net/dev | cut -d: -f1
section sys-fs-cgroup; ls /sys/fs/cgroup
section masked; for f in /proc/kcore /proc/keys /proc/timer_list /sys/firmware /proc/acpi; do
  stat -c '%n %F' "$f" 2>&1; done; cat /proc/kcore 2>&1 | head -c 40; echo
section readonly; { echo x > /proc/sys/kernel/hostname; } 2>&1; { echo x > /proc/sys/kernel/domainname; } 2>&1; echo rc=$?
section rootfs-ro; touch /rootfs-probe 2>&1 | sed 's/^touch: //'
`;

/** Options worth comparing from a mountinfo super-options field. */
const SUPER_KEEP = /^(ro|rw|mode=|size=|gid=|uid=|ptmxmode=|newinstance)/;

interface Ctx {
  parent: string;
  leaf: string;
}

/** Normalise one mountinfo line: mount point, root (env paths replaced), fstype, options. */
function normMountinfo(text: string, ctx: Ctx): string {
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [pre, post] = l.split(' - ');
      const f = pre.split(' ');
      const [fstype, , superOpts] = post.split(' ');
      let root = f[3];
      if (f[4] === '/') root = '<rootfs>';
      root = root.split(`${ctx.parent}/${ctx.leaf}`).join('<cgroup>');
      const opts = f[5].split(',').sort().join(',');
      const sup = (superOpts ?? '')
        .split(',')
        .filter((o) => SUPER_KEEP.test(o))
        .sort()
        .join(',');
      return `${f[4]} ${fstype} root=${root} opts=${opts} super=${sup}`;
    })
    .sort()
    .join('\n');
}

function sections(out: string, ctx: Ctx): Record<string, string> {
  const res: Record<string, string> = {};
  let name = '';
  for (const line of out.split('\n')) {
    const m = /^== (\S+)$/.exec(line);
    if (m) {
      name = m[1];
      res[name] = '';
    } else if (name) {
      res[name] += line + '\n';
    }
  }
  if (res.mountinfo) res.mountinfo = normMountinfo(res.mountinfo, ctx);
  if (res.cgroup) res.cgroup = res.cgroup.split(`${ctx.parent}/${ctx.leaf}`).join('<cgroup>');
  return res;
}

const SECTIONS = [
  'hostname', 'pid', 'id', 'cwd', 'env', 'status', 'ulimit-n', 'umask', 'mountinfo', 'cgroup',
  'dev', 'netdev', 'sys-fs-cgroup', 'masked', 'readonly', 'rootfs-ro',
];

/** A configuration far from the default, to compare what the default leaves untouched. */
function custom(c: Spec): void {
  c.hostname = 'difftest';
  c.process.user = { uid: 1000, gid: 1000, additionalGids: [100, 5, 100] };
  c.process.cwd = '/tmp';
  c.process.env = ['PATH=/bin', 'HOME=/home/user', 'A=1'];
  c.process.noNewPrivileges = false;
  const caps = ['CAP_CHOWN', 'CAP_KILL', 'CAP_SETUID', 'CAP_NET_BIND_SERVICE'];
  c.process.capabilities = {
    bounding: [...caps, 'CAP_NET_RAW', 'CAP_SYS_ADMIN'],
    effective: caps,
    permitted: caps,
    inheritable: ['CAP_KILL'],
    ambient: ['CAP_KILL'],
  };
  c.process.rlimits = [
    { type: 'RLIMIT_NOFILE', hard: 4096, soft: 2048 },
    { type: 'RLIMIT_NPROC', hard: 512, soft: 256 },
  ];
  c.root.readonly = false;
  c.mounts.push({ destination: '/mnt', type: 'tmpfs', source: 'tmpfs', options: ['ro', 'nosuid', 'size=1m'] });
  c.linux.maskedPaths.push('/proc/cpuinfo');
}

/**
 * /sys/fs/cgroup asked for as cgroup2, in a cgroup namespace: on this hybrid host
 * runc mounts the v2 hierarchy (its namespace root is the container's cgroup), tsrun
 * binds the container's v2 directory; inside, the two look alike.
 */
function cgroup2Mount(c: Spec): void {
  c.mounts = c.mounts.map((m: { destination: string }) =>
    m.destination === '/sys/fs/cgroup' ? { destination: '/sys/fs/cgroup', type: 'cgroup2', source: 'cgroup2', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] } : m,
  );
  c.linux.namespaces.push({ type: 'cgroup' });
}

describeIf(differentialSkipReason())(`differential: runc vs ${BINARY}`, () => {
  // Two suites: separate temp dirs, state roots and cgroup parents.
  const t = useSuite('diff-t', BINARY);
  const r = useSuite('diff-r', RUNC_BINARY);

  function probe(s: Suite, configure?: (c: Spec) => void): { res: RunResult; sec: Record<string, string> } {
    const b = s.bundle({
      configure: (c) => {
        configure?.(c);
        c.process.args = ['sh', '-c', PROBE];
      },
    });
    const res = s.cli.runContainer(b.id, b.dir);
    const leaf = b.cgroupsPath.slice(s.env.cgroupParent.length + 1);
    return { res, sec: sections(res.stdout, { parent: s.env.cgroupParent, leaf }) };
  }

  test('the bundles start from exactly what `runc spec` prints', () => {
    // bundle.ts embeds runc's spec rather than running runc; keep it honest.
    const dir = fs.mkdtempSync(path.join(r.env.tmp, 'spec-'));
    const res = spawnSync(RUNC_BINARY, ['spec', '--bundle', dir], { encoding: 'utf8' });
    expect(res.status).toBe(0);
    expect(runcSpec()).toEqual(JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')));
  });

  test('`spec` writes runc\'s file byte for byte, but for ociVersion and hostname', () => {
    const written = (binary: string): string => {
      const dir = fs.mkdtempSync(path.join(r.env.tmp, 'spec-bytes-'));
      const res = spawnSync(binary, ['spec', '--bundle', dir], { encoding: 'utf8' });
      expect({ status: res.status, stderr: res.stderr }).toEqual({ status: 0, stderr: '' });
      return fs.readFileSync(path.join(dir, 'config.json'), 'utf8')
        .replace(/"ociVersion": "[^"]*"/, '"ociVersion": "-"')
        .replace(/"hostname": "[^"]*"/, '"hostname": "-"');
    };
    expect(written(BINARY)).toBe(written(RUNC_BINARY));
  });

  describe.each([
    ['default runc spec', undefined],
    ['custom config', custom],
    ['cgroup2 mount, cgroup namespace', cgroup2Mount],
  ] as const)('%s', (_name, configure) => {
    let runc: ReturnType<typeof probe>;
    let tsrun: ReturnType<typeof probe>;
    beforeAll(() => {
      runc = probe(r, configure);
      tsrun = probe(t, configure);
    });

    test('both runs succeed with the same stderr', () => {
      expect(runc.res.code).toBe(0);
      expect({ code: tsrun.res.code, stderr: tsrun.res.stderr }).toEqual({ code: 0, stderr: runc.res.stderr });
    });

    test.each(SECTIONS)('%s matches', (name) => {
      expect(runc.sec[name]).toBeDefined();
      expect(tsrun.sec[name]).toEqual(runc.sec[name]);
    });
  });

  describe('exit codes', () => {
    const exitOf = (s: Suite, script: string) => {
      const b = s.bundle({ configure: (c) => (c.process.args = ['sh', '-c', script]) });
      return s.cli.runContainer(b.id, b.dir).code;
    };

    test.each(['exit 0', 'exit 3', 'exit 255', 'false'])('%s', (script) => {
      expect(exitOf(t, script)).toBe(exitOf(r, script));
    });

    test('SIGKILL from outside', async () => {
      const killed = async (cli: RuntimeCli, s: Suite) => {
        const b = s.bundle({ configure: (c) => (c.process.args = ['sleep', '1000']) });
        const fg = cli.spawn(['run', '--bundle', b.dir, b.id]);
        await cli.waitStatus(b.id, 'running');
        cli.kill(b.id, 'KILL');
        return (await fg.done).code;
      };
      expect(await killed(t.cli, t)).toBe(await killed(r.cli, r));
    });
  });

  describe('state through the lifecycle', () => {
    /** Key sets and status at each step, and the shape of the values. */
    const walk = async (s: Suite) => {
      const b = s.bundle({ configure: (c) => (c.process.args = ['sleep', '1000']) });
      const steps: Record<string, unknown>[] = [];
      const record = (step: string) => {
        const st = s.cli.state(b.id);
        steps.push({
          step,
          keys: Object.keys(st).sort(),
          status: st.status,
          pid: st.pid > 0 ? 'positive' : st.pid,
          id: st.id === b.id,
          bundle: st.bundle === b.dir,
          rootfs: st.rootfs === b.rootfs,
          created: /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(st.created),
          ociVersion: st.ociVersion,
          owner: st.owner,
        });
      };
      if (s.cli.create(b.id, b.dir).code !== 0) throw new Error('create failed');
      record('created');
      s.cli.start(b.id);
      record('started');
      s.cli.kill(b.id, 'KILL');
      await s.cli.waitStatus(b.id, 'stopped');
      record('killed');
      const list = JSON.parse(s.cli.list(['--format', 'json']).stdout);
      steps.push({ step: 'list', keys: Object.keys(list[0]).sort(), owner: list[0].owner });
      s.cli.delete(b.id);
      steps.push({ step: 'deleted', code: s.cli.stateRaw(b.id).code });
      return steps;
    };

    test('same keys, statuses and value shapes', async () => {
      // ociVersion is the spec version the runtime implements; runc 1.1.5 says
      // 1.0.2-dev. tsrun may differ there: compared as "a 1.x version".
      const norm = (steps: Record<string, unknown>[]) =>
        steps.map((x) =>
          'ociVersion' in x ? { ...x, ociVersion: /^1\.\d+\.\d+/.test(String(x.ociVersion)) } : x,
        );
      expect(norm(await walk(t))).toEqual(norm(await walk(r)));
    });
  });
});
