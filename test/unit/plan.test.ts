import type { Spec } from '../../src/config/types';
import { MOUNT_ATTR, MS } from '../../src/linux/mount-options';
import { buildCreatePlan, type CreatePlanInput } from '../../src/linux/plan';
import { CLONE_FLAGS } from '../../src/linux/namespaces';
import { createPlanInput } from '../helpers/plan-input';

const input = (mutate?: (s: Spec) => void): CreatePlanInput => createPlanInput(mutate);

const names = (i: CreatePlanInput): string[] => buildCreatePlan(i).map((o) => o.op);

describe('create plan', () => {
  test('the default config: namespaces, fork, rootfs, pivot, process, fifo, exec in that order', () => {
    const ops = names(input());
    expect(ops[0]).toBe('fds');
    // No cgroups of its own to join (cgroupJoin absent): nothing for the parent to do first.
    expect(ops).not.toContain('sync');
    const order = ['unshare', 'fork', 'propagation', 'rootfs', 'pivotRoot', 'hostname', 'readonlyPath', 'maskPath', 'parkedSignals', 'rlimit', 'chdir', 'credentials', 'resolveExec', 'notify', 'closeSync', 'waitFifo', 'exec'];
    const positions = order.map((o) => ops.indexOf(o));
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(ops.at(-1)).toBe('exec');
  });

  test('sysctls are written before readonlyPaths and maskedPaths (runc\'s order: /proc/sys turns read-only)', () => {
    const ops = names(input((s) => {
      s.linux = { ...s.linux, sysctl: { 'net.ipv4.ip_forward': '1' }, readonlyPaths: ['/proc/sys'], maskedPaths: ['/proc/kcore'] };
    }));
    expect(ops.indexOf('sysctl')).toBeGreaterThan(ops.indexOf('pivotRoot'));
    expect(ops.indexOf('sysctl')).toBeLessThan(ops.indexOf('readonlyPath'));
    expect(ops.indexOf('readonlyPath')).toBeLessThan(ops.indexOf('maskPath'));
  });
  test('without an exec FIFO (run) the init goes from ready straight on to the process, its sync socket open until the execve', () => {
    const ops = names({ ...input(), fifoFd: undefined });
    expect(ops).not.toContain('waitFifo');
    expect(ops).not.toContain('parkedSignals');
    // No closeSync: run reads to the EOF the execve causes (then runs poststart).
    expect(ops.slice(ops.indexOf('notify'))).toEqual(['notify', 'exec']);
    const withFifo = names(input());
    expect(withFifo.slice(withFifo.indexOf('notify'))).toEqual(['notify', 'closeSync', 'waitFifo', 'exec']);
  });

  test('process.oomScoreAdj first, before any namespace; a foreground run\'s stdio pipes go to the user\'s host uid there too, in a user namespace only', () => {
    const userns = (s: Spec): void => {
      s.linux!.namespaces!.push({ type: 'user' });
      s.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      s.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      s.process!.user = { uid: 1000, gid: 1000 };
      s.process!.oomScoreAdj = 300;
    };
    const flat = (i: CreatePlanInput): string[][] => buildCreatePlan(i).map((o) => [o.op, ...o.args.map(String)]);
    const foreground = flat({ ...input(userns), foregroundPipes: true });
    expect(foreground.slice(0, 4)).toEqual([['fds', '0', '1'], ['oomScoreAdj', '300'], ['stdioOwner', '101000'], ['unshare', String(CLONE_FLAGS.user)]]);
    // Detached, the caller's own fds: inside the namespace only (where runc tries too).
    const detached = flat(input(userns));
    expect(detached.slice(0, 3)).toEqual([['fds', '0', '1'], ['oomScoreAdj', '300'], ['unshare', String(CLONE_FLAGS.user)]]);
    expect(detached.filter((o) => o[0] === 'stdioOwner')).toEqual([['stdioOwner', '1000']]);
    // Without a user namespace the init hands them over from inside, as before.
    expect(flat({ ...input((s) => (s.process!.oomScoreAdj = 300)), foregroundPipes: true }).filter((o) => o[0] === 'stdioOwner')).toHaveLength(1);
  });

  test('a network namespace of its own gets its loopback up; a joined one is left as it is', () => {
    expect(names(input())).toContain('loopbackUp');
    const joined = names(input((s) => {
      s.linux!.namespaces = s.linux!.namespaces!.map((n) => (n.type === 'network' ? { type: 'network', path: '/run/netns/x' } : n));
    }));
    expect(joined).not.toContain('loopbackUp');
    const none = names(input((s) => (s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'network'))));
    expect(none).not.toContain('loopbackUp');
  });

  test('a joined user namespace comes before the joined namespaces it owns, after those it does not own', () => {
    const joins = (outside?: Set<'network' | 'ipc'>) =>
      buildCreatePlan({
        ...input((s) => {
          s.linux!.namespaces = s.linux!.namespaces!.map((n) => (n.type === 'network' || n.type === 'ipc' ? { type: n.type, path: `/run/${n.type}` } : n));
          s.linux!.namespaces.push({ type: 'user', path: '/run/user' });
        }),
        ...(outside ? { ownedOutsideUser: outside } : {}),
      })
        .filter((o) => o.op === 'setns')
        .map((o) => o.args[1]);
    expect(joins()).toEqual(['/run/user', '/run/ipc', '/run/network']);
    expect(joins(new Set(['network']))).toEqual(['/run/network', '/run/user', '/run/ipc']);
  });

  test('uids and gids above 2^31-1 are refused, as runc does (setresuid(-1) would keep root)', () => {
    const cases: Array<[(s: Spec) => void, string]> = [
      [(s) => (s.process!.user.uid = 4294967295), 'process.user.uid: 4294967295: uids and gids must be in range 0-2147483647'],
      [(s) => (s.process!.user.gid = 2147483648), 'process.user.gid: 2147483648: uids and gids must be in range 0-2147483647'],
      [(s) => (s.process!.user.additionalGids = [5, 4294967295]), 'process.user.additionalGids[1]: 4294967295: uids and gids must be in range 0-2147483647'],
    ];
    for (const [mutate, message] of cases) expect(() => buildCreatePlan(input(mutate))).toThrow(message);
    expect(() => buildCreatePlan(input((s) => (s.process!.user = { uid: 2147483647, gid: 2147483647 })))).not.toThrow();
  });
  test('the env op has one entry per name: where it first appears, with its last value (runc\'s Setenv)', () => {
    const plan = buildCreatePlan(input((s) => (s.process!.env = ['A=1', 'PATH=/nope', 'B=x', 'A=2', 'PATH=/bin'])));
    expect(plan.find((o) => o.op === 'env')!.args).toEqual(['A=2', 'PATH=/bin', 'B=x']);
  });
  test('unshares exactly the configured namespaces', () => {
    const plan = buildCreatePlan(input());
    const unshare = plan.find((o) => o.op === 'unshare');
    expect(Number(unshare?.args[0])).toBe(CLONE_FLAGS.pid | CLONE_FLAGS.network | CLONE_FLAGS.ipc | CLONE_FLAGS.uts | CLONE_FLAGS.mount);
  });

  test('a cgroup mount becomes a writable tmpfs plus one read-only bind per hierarchy (as runc 1.1)', () => {
    const plan = buildCreatePlan(input());
    const mounts = plan.filter((o) => o.op === 'mount' && String(o.args[1]).startsWith('sys/fs/cgroup'));
    expect(mounts.map((m) => m.args[1])).toEqual(['sys/fs/cgroup', 'sys/fs/cgroup/cpu', 'sys/fs/cgroup/memory']);
    expect(mounts[0]!.args[2]).toBe('tmpfs');
    expect(Number(mounts[1]!.args[3]) & MS.RDONLY).toBe(MS.RDONLY);
    expect(mounts[1]!.args[0]).toBe('/sys/fs/cgroup/cpu/t/c1');
    expect(Number(mounts[0]!.args[3]) & MS.RDONLY).toBe(0);
  });

  test('co-mounted v1 controllers are bound once and linked by each name (cpu -> cpu,cpuacct), as on the host and with runc', () => {
    const base = input();
    const plan = buildCreatePlan({
      ...base,
      host: { ...base.host, cgroupDirs: { 'cpu,cpuacct': '/sys/fs/cgroup/cpu,cpuacct/t/c1', memory: '/sys/fs/cgroup/memory/t/c1', systemd: '/sys/fs/cgroup/systemd/t/c1' } },
    });
    const cg = plan.filter((o) => (o.op === 'mount' || o.op === 'symlink') && String(o.args[1]).startsWith('sys/fs/cgroup'));
    expect(cg.map((o) => [o.op, ...o.args.slice(0, 2)])).toEqual([
      ['mount', 'tmpfs', 'sys/fs/cgroup'],
      ['mount', '/sys/fs/cgroup/cpu,cpuacct/t/c1', 'sys/fs/cgroup/cpu,cpuacct'],
      ['mount', '/sys/fs/cgroup/memory/t/c1', 'sys/fs/cgroup/memory'],
      ['mount', '/sys/fs/cgroup/systemd/t/c1', 'sys/fs/cgroup/systemd'],
      ['symlink', 'cpu,cpuacct', 'sys/fs/cgroup/cpu'],
      ['symlink', 'cpu,cpuacct', 'sys/fs/cgroup/cpuacct'],
    ]);
  });

  test('a read-only tmpfs is mounted writable and made read-only after the pivot', () => {
    const plan = buildCreatePlan(input((s) => s.mounts!.push({ destination: '/mnt', type: 'tmpfs', source: 'tmpfs', options: ['ro', 'size=1k'] })));
    const m = plan.find((o) => o.op === 'mount' && o.args[1] === 'mnt');
    expect(Number(m?.args[3]) & MS.RDONLY).toBe(0);
    const pivot = plan.findIndex((o) => o.op === 'pivotRoot');
    expect(plan.findIndex((o) => o.op === 'remountReadonly' && o.args[0] === '/mnt')).toBeGreaterThan(pivot);
  });

  test('a bind keeps the source\'s nosuid, nodev, noexec but those an option clears by name; the init adds them only when it remounts', () => {
    const plan = buildCreatePlan(input((s) => {
      s.mounts!.push({ destination: '/k', type: 'bind', source: '/srv', options: ['rbind', 'ro'] });
      s.mounts!.push({ destination: '/c', type: 'bind', source: '/srv', options: ['rbind', 'rw', 'suid', 'exec'] });
      s.mounts!.push({ destination: '/n', type: 'bind', source: '/srv', options: ['rbind', 'rw', 'suid', 'dev', 'exec'] });
    }));
    const extension = (dest: string): unknown => plan.find((o) => o.op === 'mount' && o.args[1] === dest)?.args[6];
    expect(extension('k')).toBe(`keep=${MS.NOSUID | MS.NODEV | MS.NOEXEC}`);
    expect(extension('c')).toBe(`keep=${MS.NODEV}`);
    expect(extension('n')).toBeUndefined();
  });

  test('tmpcopyup marks a tmpfs mount op with "copyup"; a tmpfs without it takes no seventh argument, a bind its keep=', () => {
    const plan = buildCreatePlan(input((s) => {
      s.mounts!.push({ destination: '/run', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'tmpcopyup'] });
      s.mounts!.push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid'] });
      s.mounts!.push({ destination: '/b', type: 'bind', source: '/srv', options: ['rbind', 'tmpcopyup'] });
    }));
    const argsAt = (dest: string): string[] | undefined => plan.find((o) => o.op === 'mount' && o.args[1] === dest)?.args.map(String);
    expect(argsAt('run')).toHaveLength(7);
    expect(argsAt('run')?.[6]).toBe('copyup');
    expect(argsAt('tmp')).toHaveLength(6);
    // A bind's seventh argument names the source's flags it keeps (nosuid, nodev, noexec).
    expect(argsAt('b')?.[6]).toBe(`keep=${MS.NOSUID | MS.NODEV | MS.NOEXEC}`);
  });

  test('rro on a tmpfs waits for the pivot (mounts under it come later); its other recursive options do not', () => {
    const plan = buildCreatePlan(input((s) => s.mounts!.push({ destination: '/t', type: 'tmpfs', source: 'tmpfs', options: ['rro', 'rnosuid'] })));
    const pivot = plan.findIndex((o) => o.op === 'pivotRoot');
    const setattrs = plan.map((o, i) => ({ o, i })).filter(({ o }) => o.op === 'mountSetattr');
    expect(setattrs.map(({ o, i }) => [i < pivot ? 'before' : 'after', ...o.args])).toEqual([
      ['before', 't', MOUNT_ATTR.NOSUID, 0],
      ['after', 't', MOUNT_ATTR.RDONLY, 0],
    ]);
  });

  test('recursive options are one mountSetattr right after that entry\'s mount; none without them', () => {
    const plan = buildCreatePlan(input((s) => {
      s.mounts!.push({ destination: '/r', type: 'bind', source: '/srv', options: ['rbind', 'rro'] });
      s.mounts!.push({ destination: '/p', type: 'bind', source: '/srv', options: ['rbind', 'ro'] });
    }));
    const at = plan.findIndex((o) => o.op === 'mount' && o.args[1] === 'r');
    expect(plan[at + 1]).toEqual({ op: 'mountSetattr', args: ['r', MOUNT_ATTR.RDONLY, 0] });
    expect(plan.filter((o) => o.op === 'mountSetattr')).toHaveLength(1);
  });

  describe('id-mapped mounts', () => {
    const withUserns = (s: Spec): void => {
      s.linux = { ...s.linux, namespaces: [...(s.linux?.namespaces ?? []), { type: 'user' }], uidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }], gidMappings: [{ containerID: 0, hostID: 200000, size: 65536 }] };
    };
    test('with a user namespace: the mappings\' user namespace is made first, the tree by the source helper right before its mount, which attaches it', () => {
      const plan = buildCreatePlan(input((s) => {
        withUserns(s);
        s.mounts!.push({ destination: '/v', type: 'bind', source: '/srv', options: ['rbind', 'ridmap'] });
        s.mounts!.push({ destination: '/w', type: 'bind', source: '/data', options: ['bind', 'ro'] });
      }));
      const at = (name: string): number => plan.findIndex((o) => o.op === name);
      const userns = plan.findIndex((o) => o.op === 'unshare' && Number(o.args[0]) === CLONE_FLAGS.user);
      const made = at('idmapUserns');
      expect(plan[made]!.args).toEqual([expect.any(Number), '/srv', '', '0 100000 65536\n', '0 200000 65536\n']);
      expect(made).toBeLessThan(userns);
      const index = plan[made]!.args[0];
      const v = plan.findIndex((o) => o.op === 'mount' && o.args[1] === 'v');
      expect(plan[v - 1]).toEqual({ op: 'idmapTree', args: [index, '/srv', 1, 1, 1] });
      expect(plan[v]!.args[6]).toBe(`idmap=${index},keep=14`);
      // The helper, still the host's root, before the user namespace; it joins the
      // container's mount namespace right after it is made.
      const w = plan.find((o) => o.op === 'mount' && o.args[1] === 'w')!.args[6];
      expect(plan[at('sourceHelper')]!.args).toEqual([index, '/srv', Number(/^src=(\d+)/.exec(String(w))?.[1]), '/data']);
      expect(at('sourceHelper')).toBeLessThan(userns);
      const containerNs = plan.findIndex((o, i) => i > userns && o.op === 'unshare' && (Number(o.args[0]) & CLONE_FLAGS.mount) !== 0);
      expect(at('openSources')).toBe(containerNs + 1);
      // It opens each source as its bind comes, and is let go after the last one,
      // before anything else runs in the container's namespaces.
      const lastBind = plan.findIndex((o) => o.op === 'mount' && o.args[1] === 'w');
      expect(at('closeSources')).toBe(lastBind + 1);
      expect(at('closeSources')).toBeLessThan(at('pivotRoot'));
    });
    test('without a user namespace the init makes the tree itself, right before its mount; no helper', () => {
      const plan = buildCreatePlan(input((s) => {
        s.mounts!.push({ destination: '/v', type: 'bind', source: '/srv', options: ['bind'], uidMappings: [{ containerID: 0, hostID: 5, size: 1 }], gidMappings: [{ containerID: 0, hostID: 6, size: 1 }] });
      }));
      const index = plan.find((o) => o.op === 'idmapUserns')!.args[0];
      const v = plan.findIndex((o) => o.op === 'mount' && o.args[1] === 'v');
      expect(plan[v - 1]).toEqual({ op: 'idmapTree', args: [index, '/srv', 0, 0, 0] });
      expect(plan[v]!.args[6]).toBe(`idmap=${index},keep=14`);
      expect(plan.findIndex((o) => o.op === 'rootfs')).toBeLessThan(v);
      expect(plan.some((o) => ['sourceHelper', 'openSources', 'closeSources'].includes(o.op))).toBe(false);
    });
    test('with a user namespace a plain bind of the same source stays a plain bind through the helper', () => {
      const plan = buildCreatePlan(input((s) => {
        withUserns(s);
        s.mounts!.push({ destination: '/w', type: 'bind', source: '/srv', options: ['bind'] });
        s.mounts!.push({ destination: '/v', type: 'bind', source: '/srv', options: ['bind', 'idmap'] });
      }));
      const mountOf = (dest: string) => plan.find((o) => o.op === 'mount' && o.args[1] === dest)!.args[6];
      const [w, v] = [Number(/^src=(\d+)/.exec(String(mountOf('w')))?.[1]), Number(/^idmap=(\d+)/.exec(String(mountOf('v')))?.[1])];
      expect(plan.find((o) => o.op === 'sourceHelper')!.args).toEqual([w, '/srv', v, '/srv']);
      expect(plan.filter((o) => o.op === 'idmapTree').map((o) => o.args)).toEqual([[v, '/srv', 0, 0, 1]]);
    });
    test('a mount\'s own mappings need no option (idmap, not recursive); a plain bind gets no tree', () => {
      const plan = buildCreatePlan(input((s) => {
        s.mounts!.push({ destination: '/v', type: 'bind', source: '/srv', options: ['bind'], uidMappings: [{ containerID: 0, hostID: 5, size: 1 }], gidMappings: [{ containerID: 0, hostID: 6, size: 1 }] });
        s.mounts!.push({ destination: '/w', type: 'bind', source: '/srv', options: ['bind'] });
      }));
      expect(plan.filter((o) => o.op === 'idmapUserns').map((o) => o.args.slice(2))).toEqual([['', '0 5 1\n', '0 6 1\n']]);
      expect(plan.filter((o) => o.op === 'idmapTree').map((o) => o.args.slice(2))).toEqual([[0, 0, 0]]);
    });
    test.each([
      ['not a bind mount', (s: Spec) => s.mounts!.push({ destination: '/t', type: 'tmpfs', source: 'tmpfs', options: ['idmap'] }), /mounts\[\d+\]: id-mapped mounts are only supported for bind mounts/],
      ['idmap without the container\'s mappings', (s: Spec) => s.mounts!.push({ destination: '/v', type: 'bind', source: '/srv', options: ['bind', 'idmap'] }), /linux\.uidMappings: is required: the container has no user namespace mappings/],
      ['an empty mapping', (s: Spec) => s.mounts!.push({ destination: '/v', type: 'bind', source: '/srv', options: ['bind'], uidMappings: [], gidMappings: [{ containerID: 0, hostID: 6, size: 1 }] }), /mounts\[\d+\]\.uidMappings: must have at least one mapping/],
      ['a cgroup mount', (s: Spec) => s.mounts!.push({ destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['rbind', 'idmap'], uidMappings: [{ containerID: 0, hostID: 5, size: 1 }], gidMappings: [{ containerID: 0, hostID: 6, size: 1 }] }), /id-mapped mounts are only supported for bind mounts/],
      ['a joined mount namespace', (s: Spec) => {
        s.linux!.namespaces = s.linux!.namespaces!.map((n) => (n.type === 'mount' ? { type: 'mount', path: '/proc/1/ns/mnt' } : n));
        s.mounts!.push({ destination: '/v', type: 'bind', source: '/srv', options: ['bind'], uidMappings: [{ containerID: 0, hostID: 5, size: 1 }], gidMappings: [{ containerID: 0, hostID: 6, size: 1 }] });
      }, /not supported with a joined mount namespace/],
    ] as const)('refused: %s', (_name, mutate, message) => {
      expect(() => buildCreatePlan(input(mutate as (s: Spec) => void))).toThrow(message as RegExp);
    });
    test('idmap in a joined user namespace maps with it: its path, no maps of its own', () => {
      const plan = buildCreatePlan(input((s) => {
        s.linux!.namespaces = [...s.linux!.namespaces!, { type: 'user', path: '/proc/42/ns/user' }];
        s.mounts!.push({ destination: '/v', type: 'bind', source: '/srv', options: ['bind', 'idmap'] });
      }));
      expect(plan.find((o) => o.op === 'idmapUserns')?.args.slice(1)).toEqual(['/srv', '/proc/42/ns/user', '', '']);
      expect(plan.find((o) => o.op === 'idmapTree')?.args.slice(1)).toEqual(['/srv', 0, 0, 1]);
    });
    test('refused for a rootless container', () => {
      const i = input((s) => {
        withUserns(s);
        s.mounts!.push({ destination: '/v', type: 'bind', source: '/srv', options: ['bind', 'idmap'] });
      });
      expect(() => buildCreatePlan({ ...i, unprivilegedParent: true })).toThrow(/not supported for rootless containers/);
    });
  });

  test('relative bind sources are resolved against the bundle', () => {
    const plan = buildCreatePlan(input((s) => s.mounts!.push({ destination: '/data', type: 'bind', source: 'data', options: ['rbind', 'ro'] })));
    const m = plan.find((o) => o.op === 'mount' && o.args[1] === 'data');
    expect(m?.args[0]).toBe('/b/data');
    expect(Number(m?.args[3])).toBe(MS.BIND | MS.REC | MS.RDONLY);
  });

  test('default devices and /dev links unless /dev is bind-mounted', () => {
    expect(buildCreatePlan(input()).filter((o) => o.op === 'mknod').map((o) => o.args[0])).toEqual([
      'dev/null', 'dev/random', 'dev/full', 'dev/tty', 'dev/zero', 'dev/urandom',
    ]);
    const bound = input((s) => s.mounts!.push({ destination: '/dev', type: 'bind', source: '/dev', options: ['rbind'] }));
    expect(names(bound)).not.toContain('mknod');
    expect(names(bound)).not.toContain('symlink');
  });

  test('/dev/ptmx in linux.devices is left to the pts/ptmx link, as runc does (in a user namespace the host node bound there breaks ptys)', () => {
    const ptmx = { path: '/dev/ptmx', type: 'c' as const, major: 5, minor: 2, fileMode: 0o666 };
    const plan = buildCreatePlan(input((s) => (s.linux!.devices = [ptmx])));
    expect(plan.some((o) => (o.op === 'mknod' || o.op === 'bindDevice') && o.args[0] === 'dev/ptmx')).toBe(false);
    expect(plan.some((o) => o.op === 'symlink' && o.args[0] === 'pts/ptmx' && o.args[1] === 'dev/ptmx')).toBe(true);
  });

  test('the /dev/ptmx link replaces what the image has there (runc\'s setupPtmx), unless the config mounts something there; the other links keep it', () => {
    const links = (mutate?: (s: Spec) => void) =>
      Object.fromEntries(buildCreatePlan(input(mutate)).filter((o) => o.op === 'symlink').map((o) => [String(o.args[1]), o.args.slice(2).map(String)]));
    expect(links()).toEqual({ 'dev/fd': [], 'dev/stdin': [], 'dev/stdout': [], 'dev/stderr': [], 'dev/ptmx': ['1'] });
    expect(links((s) => (s.linux!.devices = [{ path: '/dev/ptmx', type: 'c', major: 5, minor: 2 }]))['dev/ptmx']).toEqual(['1']);
    expect(links((s) => s.mounts!.push({ destination: '/dev/ptmx', type: 'bind', source: '/dev/null', options: ['bind'] }))['dev/ptmx']).toEqual([]);
  });

  test('a process.execCPUAffinity that cannot be read is refused at create (runc 1.2), not at every exec', () => {
    expect(() => buildCreatePlan(input((s) => (s.process!.execCPUAffinity = { initial: 'bogus' })))).toThrow(/process\.execCPUAffinity\.initial: "bogus" is not a list like "0-3,7"/);
    expect(() => buildCreatePlan(input((s) => (s.process!.execCPUAffinity = { final: '3-1' })))).toThrow(/process\.execCPUAffinity\.final: range 3-1 is backwards/);
    // Only the lists' form: a CPU the host lacks is the kernel's to refuse, at the exec.
    expect(() => buildCreatePlan(input((s) => (s.process!.execCPUAffinity = { initial: '4000', final: ' ' })))).not.toThrow();
  });

  test('a device number, uid or gid past 32 bits is refused naming it, not cut to another device or owner', () => {
    const plan = (extra: Record<string, number>) => () => buildCreatePlan(input((s) => (s.linux!.devices = [{ path: '/dev/x', type: 'c', major: 1, minor: 3, ...extra }])));
    expect(plan({ major: 2 ** 32 + 1 })).toThrow('linux.devices "/dev/x": major must be between 0 and 4294967295, got 4294967297');
    expect(plan({ minor: -1 })).toThrow('linux.devices "/dev/x": minor must be between 0 and 4294967295, got -1');
    expect(plan({ uid: 2 ** 32 - 1 })).toThrow('linux.devices "/dev/x": uid must be between 0 and 4294967294, got 4294967295');
    expect(plan({ gid: 2 ** 33 })).toThrow('linux.devices "/dev/x": gid must be between 0 and 4294967294, got 8589934592');
    expect(plan({ major: 2 ** 32 - 1, minor: 2 ** 32 - 1, uid: 2 ** 32 - 2, gid: 0 })).not.toThrow();
  });

  test("a bound /dev gets none of the config's devices either (runc): they would land in the directory behind the bind", () => {
    const device = { path: '/dev/fuse', type: 'c' as const, major: 10, minor: 229, fileMode: 0o666 };
    const bound = input((s) => {
      s.mounts!.push({ destination: '/dev', type: 'none', source: '/srv/dev', options: ['bind'] });
      s.linux!.devices = [device];
    });
    expect(names(bound)).not.toContain('mknod');
    const inUserNs = input((s) => {
      s.mounts!.push({ destination: '/dev/', type: 'bind', source: '/srv/dev' });
      s.linux!.devices = [device];
      s.linux!.namespaces!.push({ type: 'user' });
      s.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      s.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    });
    expect(names(inUserNs)).not.toContain('bindDevice');
    // Without the bind, the config's device is made.
    expect(buildCreatePlan(input((s) => (s.linux!.devices = [device]))).filter((o) => o.op === 'mknod').map((o) => o.args[0])).toContain('dev/fuse');
  });

  test("mounts in and on /proc follow runc's rule: only lxcfs's files may be covered, only a procfs may cover /proc", () => {
    const withMount = (m: { destination: string; type?: string; source?: string; options?: string[] }, isProcfs?: (p: string) => boolean) => {
      const i = input((s) => s.mounts!.push(m));
      return buildCreatePlan({ ...i, host: { ...i.host, ...(isProcfs ? { isProcfs } : {}) } });
    };
    expect(() => withMount({ destination: '/proc/1/attr', type: 'bind', source: '/tmp', options: ['rbind'] }))
      .toThrow(/mounts\[\d+\]\.destination: "\/proc\/1\/attr" cannot be mounted because it is inside \/proc/);
    expect(() => withMount({ destination: 'proc/sys/', type: 'overlay', source: 'overlay', options: ['lowerdir=/a'] })).toThrow(/"\/proc\/sys" cannot be mounted because it is inside \/proc/);
    expect(() => withMount({ destination: '/x/../proc', source: '/tmp', options: ['bind'] })).toThrow(/"\/proc" cannot be mounted because it is not of type proc/);
    expect(() => withMount({ destination: '/x/..', source: '/tmp', options: ['rbind'] })).toThrow(/mounts\[\d+\]\.destination: cannot be the container's root "\/"/);
    expect(() => withMount({ destination: '/', type: 'tmpfs', source: 'tmpfs' })).toThrow(/cannot be the container's root/);
    // Allowed: lxcfs's files, a bind of a procfs onto /proc, and filesystems made by type.
    expect(() => withMount({ destination: '/proc/meminfo', type: 'bind', source: '/var/lib/lxcfs/proc/meminfo', options: ['bind'] })).not.toThrow();
    expect(() => withMount({ destination: '/proc', type: 'bind', source: '/proc', options: ['rbind'] }, (p) => p === '/proc')).not.toThrow();
    expect(() => withMount({ destination: '/proc/sys', type: 'tmpfs', source: 'tmpfs' })).not.toThrow();
    expect(() => withMount({ destination: '/proc/sys/fs/binfmt_misc', type: 'mqueue', source: 'mqueue' })).not.toThrow();
    expect(() => withMount({ destination: '/procfs', type: 'bind', source: '/tmp', options: ['bind'] })).not.toThrow();
  });

  test('a terminal: the console op (with /dev/console) comes right after the pivot, before the read-only remounts', () => {
    const plan = buildCreatePlan({ ...input((s) => s.mounts!.push({ destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['ro'] })), console: { fd: 7, relayedByTsrun: true } });
    const at = (name: string): number => plan.findIndex((o) => o.op === name);
    expect(plan[at('console')].args.map(String)).toEqual(['7', '0', '0', '1', '1']);
    expect(at('console')).toBe(at('pivotRoot') + 1);
    expect(at('console')).toBeLessThan(at('remountReadonly'));
  });

  test('--pidfd-socket: the container process sends its pidfd after its session, inside the container, before the credentials change', () => {
    const plan = buildCreatePlan({ ...input(), pidfdSocketFd: 8 });
    const at = (name: string): number => plan.findIndex((o) => o.op === name);
    expect(plan[at('pidfdSocket')].args.map(String)).toEqual(['8', 'standard']);
    expect(at('pidfdSocket')).toBe(at('newSession') + 1);
    expect(at('pidfdSocket')).toBeGreaterThan(at('pivotRoot'));
    expect(at('pidfdSocket')).toBeLessThan(at('credentials'));
    expect(names(input())).not.toContain('pidfdSocket');
  });

  test('--no-pivot chroots instead', () => {
    expect(names({ ...input(), noPivot: true })).toContain('chrootNoPivot');
  });

  test('read-only root is remounted after pivot', () => {
    const plan = buildCreatePlan(input());
    expect(plan.some((o) => o.op === 'remountReadonly' && o.args[0] === '/')).toBe(true);
  });

  test('refusals name the field', () => {
    expect(() => buildCreatePlan(input((s) => (s.linux!.namespaces = [{ type: 'pid' }])))).toThrow(/linux.namespaces: a mount namespace is required/);
    expect(() => buildCreatePlan(input((s) => (s.linux!.namespaces = [{ type: 'mount' }])))).toThrow(/hostname: unable to set hostname without a private UTS namespace/);
    expect(() => buildCreatePlan(input((s) => (s.process!.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 10, hard: 5 }])))).toThrow(/process.rlimits\[0\]/);
    expect(() => buildCreatePlan(input((s) => (s.process!.args = [])))).toThrow(/process.args/);
  });

  test('every create plan gives its init every CPU of its cpuset once it is in the container\'s cgroups, not tsrun\'s own affinity', () => {
    const ops = buildCreatePlan(input()).map((o) => o.op);
    expect(ops.filter((o) => o === 'cpuAffinity')).toHaveLength(1);
    expect(ops.indexOf('cpuAffinity')).toBeGreaterThan(ops.indexOf('fork'));
    expect(buildCreatePlan(input()).find((o) => o.op === 'cpuAffinity')?.args).toEqual(['all']);
  });

  test('the session keyring is joined right after the fork, searchable by the uid or, in a user namespace, by others', () => {
    const plan = buildCreatePlan({ ...input(), sessionKeyring: '_ses.c1' });
    const ops = plan.map((o) => o.op);
    expect(ops.indexOf('sessionKeyring')).toBe(ops.indexOf('fork') + 1);
    expect(plan.find((o) => o.op === 'sessionKeyring')?.args).toEqual(['_ses.c1', 0x80000]);
    const userns = buildCreatePlan({ ...input((s) => s.linux!.namespaces!.push({ type: 'user' })), sessionKeyring: '_ses.c1' });
    expect(userns.find((o) => o.op === 'sessionKeyring')?.args).toEqual(['_ses.c1', 0x80008]);
    // --no-new-keyring
    expect(names(input())).not.toContain('sessionKeyring');
  });

  test('LSM labels: exec labels before the credentials, the key label before the keyring, mountLabel as mount context', () => {
    const withLsm = (mutate: (s: Spec) => void): CreatePlanInput => {
      const i = input(mutate);
      return { ...i, sessionKeyring: '_ses.c1', host: { ...i.host, lsm: { apparmor: true, selinux: true } } };
    };
    const label = 'system_u:system_r:container_t:s0:c1,c2';
    const mountLabel = 'system_u:object_r:container_file_t:s0:c1,c2';
    const plan = buildCreatePlan(withLsm((s) => {
      s.process!.apparmorProfile = 'docker-default';
      s.process!.selinuxLabel = label;
      s.linux!.mountLabel = mountLabel;
    }));
    const ops = plan.map((o) => o.op);
    const execLabels = plan.filter((o) => o.op === 'execLabel').map((o) => o.args);
    expect(execLabels).toEqual([['apparmor', 'docker-default'], ['selinux', label]]);
    expect(ops.indexOf('execLabel')).toBeGreaterThan(ops.indexOf('pivotRoot'));
    expect(ops.lastIndexOf('execLabel')).toBeLessThan(ops.indexOf('credentials'));
    expect(plan[ops.indexOf('keyLabel')]?.args).toEqual([label]);
    expect(ops.indexOf('keyLabel')).toBe(ops.indexOf('sessionKeyring') - 1);
    const data = (dest: string) => plan.find((o) => o.op === 'mount' && o.args[1] === dest)?.args[5];
    expect(data('dev')).toBe(`mode=755,size=65536k,context="${mountLabel}"`);
    expect(data('dev/pts')).toMatch(new RegExp(`,context="${mountLabel.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"$`));
    expect(data('proc')).toBe('');
    expect(data('sys')).toBe('');
    // Hosts without the LSM: runc's errors, naming the field.
    const refused = (mutate: (s: Spec) => void) => () => buildCreatePlan(input(mutate));
    expect(refused((s) => (s.process!.apparmorProfile = 'docker-default'))).toThrow(/process\.apparmorProfile: apparmor profile is specified in config, but apparmor is disabled or not supported/);
    expect(refused((s) => (s.process!.selinuxLabel = label))).toThrow(/process\.selinuxLabel: selinux label is specified/);
    expect(refused((s) => (s.linux!.mountLabel = mountLabel))).toThrow(/linux\.mountLabel: selinux label is specified/);
  });

  test('process.user must be mapped in a new user namespace the config maps (runc\'s words); one joined by path is not checked', () => {
    const mapped = (user: { uid: number; gid: number }, path?: string) => () =>
      buildCreatePlan(
        input((s) => {
          s.linux!.namespaces!.push(path ? { type: 'user', path } : { type: 'user' });
          if (!path) {
            s.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 1000 }];
            s.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 500 }];
          }
          s.process!.user = user;
        }),
      );
    expect(mapped({ uid: 999, gid: 499 })).not.toThrow();
    expect(mapped({ uid: 1000, gid: 0 })).toThrow('process.user.uid: 1000: cannot set uid to unmapped user in user namespace');
    expect(mapped({ uid: 0, gid: 500 })).toThrow('process.user.gid: 500: cannot set gid to unmapped user in user namespace');
    expect(mapped({ uid: 1000, gid: 500 }, '/proc/1/ns/user')).not.toThrow();
  });

  test('a new user namespace asks the parent for maps before becoming root', () => {
    const ops = names(input((s) => s.linux!.namespaces!.push({ type: 'user' })));
    expect(ops.indexOf('sync', 2)).toBeGreaterThan(ops.indexOf('unshare'));
    expect(ops.indexOf('becomeRoot')).toBeGreaterThan(ops.indexOf('sync', 2));
    expect(ops).toContain('bindDevice');
    expect(ops).not.toContain('mknod');
  });

  test('a runtime that itself runs in a user namespace binds the host\'s device nodes, even when the config asks for none', () => {
    const base = createPlanInput();
    const ops = names({ ...base, host: { ...base.host, inUserNs: true } });
    expect(ops).toContain('bindDevice');
    expect(ops).not.toContain('mknod');
    expect(ops).not.toContain('becomeRoot');
  });

  test('paths longer than PATH_MAX are refused naming the field', () => {
    const long = '/' + 'a'.repeat(5000);
    expect(() => buildCreatePlan(input((s) => s.mounts!.push({ destination: long, type: 'tmpfs', source: 'tmpfs' })))).toThrow(/mounts\[7\]\.destination: is longer than PATH_MAX/);
    expect(() => buildCreatePlan(input((s) => (s.linux!.maskedPaths = [long])))).toThrow(/linux\.maskedPaths\[0\]/);
  });

  test('an unprivileged parent gets the init dumpable from its unshare of the user namespace on (its maps, its /proc files)', () => {
    const plan = buildCreatePlan({ ...input((s) => s.linux!.namespaces!.push({ type: 'user' })), unprivilegedParent: true });
    const ops = plan.map((o) => `${o.op} ${o.args.join(' ')}`.trim());
    const at = ops.indexOf('sync usermap');
    expect(ops.slice(at - 2, at + 2)).toEqual([`unshare ${CLONE_FLAGS.user}`, 'dumpable', 'sync usermap', 'becomeRoot']);
    expect(ops.filter((o) => o === 'dumpable')).toHaveLength(1);
    expect(ops).not.toContain('nonDumpable');
    const root = names(input((s) => s.linux!.namespaces!.push({ type: 'user' })));
    expect(root).not.toContain('dumpable');
  });

  test('time offsets are written by the parent between the unshare and the fork', () => {
    const ops = names(input((s) => {
      s.linux!.namespaces!.push({ type: 'time' });
      s.linux!.timeOffsets = { boottime: { secs: 5 } };
    }));
    const sync = ops.lastIndexOf('sync');
    expect(sync).toBeGreaterThan(ops.indexOf('unshare'));
    expect(ops.indexOf('fork')).toBeGreaterThan(sync);
    expect(() => buildCreatePlan(input((s) => (s.linux!.timeOffsets = { boottime: { secs: 5 } })))).toThrow(/linux.timeOffsets: requires a new time namespace/);
  });

  describe('linux.memoryPolicy', () => {
    const policyOps = (policy: NonNullable<Spec['linux']>['memoryPolicy']) =>
      buildCreatePlan(input((s) => (s.linux!.memoryPolicy = policy)))
        .filter((o) => o.op === 'memoryPolicy')
        .map((o) => o.args.map(String));

    test("one memoryPolicy op: the kernel's mode number with the flags or'ed in, nodes expanded; before the credentials and a seccomp filter", () => {
      expect(policyOps({ mode: 'MPOL_BIND', nodes: '0-2,5' })).toEqual([['2', '0,1,2,5', 'MPOL_BIND']]);
      expect(policyOps({ mode: 'MPOL_INTERLEAVE', nodes: '1', flags: ['MPOL_F_STATIC_NODES'] })).toEqual([[String(3 | 0x8000), '1', 'MPOL_INTERLEAVE|MPOL_F_STATIC_NODES']]);
      expect(policyOps({ mode: 'MPOL_BIND', nodes: '0', flags: ['MPOL_F_NUMA_BALANCING', 'MPOL_F_RELATIVE_NODES'] })).toEqual([[String(2 | 0x2000 | 0x4000), '0', 'MPOL_BIND|MPOL_F_NUMA_BALANCING|MPOL_F_RELATIVE_NODES']]);
      // Modes that take no nodes, or may go without (preferred: the local node).
      expect(policyOps({ mode: 'MPOL_LOCAL' })).toEqual([['4', '', 'MPOL_LOCAL']]);
      expect(policyOps({ mode: 'MPOL_DEFAULT' })).toEqual([['0', '', 'MPOL_DEFAULT']]);
      expect(policyOps({ mode: 'MPOL_PREFERRED' })).toEqual([['1', '', 'MPOL_PREFERRED']]);
      expect(policyOps({ mode: 'MPOL_WEIGHTED_INTERLEAVE', nodes: '0' })).toEqual([['6', '0', 'MPOL_WEIGHTED_INTERLEAVE']]);
      expect(policyOps(undefined)).toEqual([]);
      const ops = names(input((s) => {
        s.linux!.memoryPolicy = { mode: 'MPOL_BIND', nodes: '0' };
        s.process!.noNewPrivileges = false;
      }));
      expect(ops.indexOf('memoryPolicy')).toBeGreaterThan(ops.indexOf('pivotRoot'));
      expect(ops.indexOf('memoryPolicy')).toBeLessThan(ops.indexOf('credentials'));
    });

    test('refusals name the field', () => {
      const refuse = (policy: NonNullable<Spec['linux']>['memoryPolicy'], message: RegExp) => expect(() => policyOps(policy)).toThrow(message);
      refuse({ mode: 'MPOL_BIND' }, /linux.memoryPolicy.nodes: MPOL_BIND needs at least one node/);
      refuse({ mode: 'MPOL_INTERLEAVE', nodes: ' ' }, /linux.memoryPolicy.nodes: MPOL_INTERLEAVE needs at least one node/);
      refuse({ mode: 'MPOL_LOCAL', nodes: '0' }, /linux.memoryPolicy.nodes: must be empty for MPOL_LOCAL/);
      refuse({ mode: 'MPOL_DEFAULT', nodes: '1' }, /linux.memoryPolicy.nodes: must be empty for MPOL_DEFAULT/);
      refuse({ mode: 'MPOL_BIND', nodes: '1-0' }, /linux.memoryPolicy.nodes: range 1-0 is backwards/);
      refuse({ mode: 'MPOL_BIND', nodes: '0', flags: ['MPOL_F_STATIC_NODES', 'MPOL_F_RELATIVE_NODES'] }, /linux.memoryPolicy.flags: MPOL_F_STATIC_NODES and MPOL_F_RELATIVE_NODES exclude each other/);
      refuse({ mode: 'MPOL_NOPE' }, /linux.memoryPolicy.mode: unknown memory policy mode "MPOL_NOPE"/);
      refuse({ mode: 'MPOL_INTERLEAVE', nodes: '0', flags: ['MPOL_F_NUMA_BALANCING'] }, /linux.memoryPolicy.flags: MPOL_F_NUMA_BALANCING goes with MPOL_BIND or MPOL_PREFERRED_MANY, not MPOL_INTERLEAVE/);
      refuse({ mode: 'MPOL_LOCAL', flags: ['MPOL_F_STATIC_NODES'] }, /linux.memoryPolicy.flags: .*apply to a node list, which MPOL_LOCAL has not here/);
      refuse({ mode: 'MPOL_PREFERRED', flags: ['MPOL_F_RELATIVE_NODES'] }, /linux.memoryPolicy.flags: .*which MPOL_PREFERRED has not here/);
      refuse({ mode: 'MPOL_DEFAULT', flags: ['MPOL_F_STATIC_NODES'] }, /linux.memoryPolicy.flags: .*which MPOL_DEFAULT has not here/);
      expect(policyOps({ mode: 'MPOL_PREFERRED_MANY', nodes: '0', flags: ['MPOL_F_NUMA_BALANCING'] })).toHaveLength(1);
      refuse({ mode: 'MPOL_BIND', nodes: '0', flags: ['MPOL_F_X'] }, /linux.memoryPolicy.flags\[0\]: unknown memory policy flag "MPOL_F_X"/);
    });
  });

  describe('linux.netDevices', () => {
    const withDevices = (devices: Record<string, { name?: string }>, mutate?: (s: Spec) => void): CreatePlanInput =>
      input((s) => {
        s.linux!.netDevices = devices;
        mutate?.(s);
      });

    const listed = (i: CreatePlanInput) => buildCreatePlan(i).map((o) => `${o.op} ${o.args.join(' ')}`.trim());

    test('one `sync netDevice <host>` per device, once the init is in all of its namespaces (after the fork), before the rootfs', () => {
      const ops = listed(withDevices({ eth1: { name: 'ctr0' }, eth2: {}, eth3: { name: 'net%d' } }));
      const devices = ops.filter((o) => o.startsWith('sync netDevice'));
      expect(devices).toEqual(['sync netDevice eth1', 'sync netDevice eth2', 'sync netDevice eth3']);
      expect(ops.indexOf(devices[0]!)).toBeGreaterThan(ops.indexOf('fork'));
      expect(ops.indexOf(devices[2]!)).toBeLessThan(ops.indexOf(ops.find((o) => o.startsWith('rootfs'))!));
      // In a user namespace too: after the maps and becomeRoot.
      const userns = listed(withDevices({ eth1: {} }, (s) => s.linux!.namespaces!.push({ type: 'user' })));
      expect(userns.indexOf('sync netDevice eth1')).toBeGreaterThan(userns.indexOf('becomeRoot'));
      // Born into a v2 cgroup, the init unshares the network namespace after the fork: the devices come after that.
      const cgroupJoin = { initOps: [{ op: 'cgroup', args: ['v2', '/sys/fs/cgroup/c'] }], parentDirs: [], forkInto: true };
      const late = listed({ ...withDevices({ eth1: {} }, (s) => s.linux!.namespaces!.push({ type: 'cgroup' })), cgroupJoin } as CreatePlanInput);
      expect(late.indexOf('sync netDevice eth1')).toBeGreaterThan(late.lastIndexOf(late.filter((o) => o.startsWith('unshare')).at(-1)!));
      expect(late.indexOf('sync netDevice eth1')).toBeGreaterThan(late.indexOf('fork'));
      expect(listed(input()).some((o) => o.startsWith('sync netDevice'))).toBe(false);
    });

    test('the init sends its network namespace (netns) right before the first device, once', () => {
      for (const mutate of [
        (s: Spec) => s.linux!.namespaces!.push({ type: 'user' }),
        (s: Spec) => (s.linux!.namespaces = s.linux!.namespaces!.map((n) => (n.type === 'network' ? { type: 'network', path: '/run/netns/x' } : n))),
      ]) {
        const ops = listed(withDevices({ eth1: {}, eth2: {} }, mutate));
        expect(ops.filter((o) => o === 'netns')).toHaveLength(1);
        expect(ops[ops.indexOf('netns') + 1]).toBe('sync netDevice eth1');
      }
      expect(listed(input())).not.toContain('netns');
    });

    test('refused without a network namespace of the container, for a rootless runtime, and for names the kernel refuses', () => {
      const refuse = (i: CreatePlanInput, message: RegExp) => expect(() => buildCreatePlan(i)).toThrow(message);
      refuse(withDevices({ eth1: {} }, (s) => (s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'network'))), /linux.netDevices: unable to move network devices without a private NET namespace/);
      refuse({ ...withDevices({ eth1: {} }, (s) => s.linux!.namespaces!.push({ type: 'user' })), unprivilegedParent: true }, /linux.netDevices: .*not for rootless containers/);
      refuse(withDevices({ eth1: { name: 'a'.repeat(16) } }), /linux.netDevices.eth1.name: must be 1 to 15 bytes long/);
      refuse(withDevices({ eth1: { name: 'a b' } }), /linux.netDevices.eth1.name: must not contain/);
      refuse(withDevices({ eth1: { name: 'x:1' } }), /linux.netDevices.eth1.name: must not contain/);
      // The kernel's isspace() takes byte 0xA0, which UTF-8 "à" (C3 A0) holds.
      refuse(withDevices({ eth1: { name: 'à0' } }), /linux.netDevices.eth1.name: must not contain/);
      refuse(withDevices({ eth1: { name: 'e\t0' } }), /linux.netDevices.eth1.name: must not contain/);
      refuse(withDevices({ eth1: { name: 'éééééééé' } }), /linux.netDevices.eth1.name: must be 1 to 15 bytes long/);
      refuse(withDevices({ eth1: { name: '..' } }), /linux.netDevices.eth1.name: must not be "." or ".."/);
      refuse(withDevices({ eth1: { name: 'e%s' } }), /linux.netDevices.eth1.name: a name template holds one "%d"/);
      refuse(withDevices({ eth1: { name: 'e%d%d' } }), /linux.netDevices.eth1.name: a name template holds one "%d"/);
      refuse(withDevices({ 'e%d': {} }), /linux.netDevices.e%d: host device name must not contain "%"/);
      refuse(withDevices({ 'a/b': {} }), /linux.netDevices.a\/b: host device name must not contain/);
      refuse(withDevices({ eth1: { name: 'ctr0' }, eth2: { name: 'ctr0' } }), /linux.netDevices.eth2.name: "ctr0" is also the container's name for eth1/);
      refuse(withDevices({ ctr0: {}, eth2: { name: 'ctr0' } }), /linux.netDevices.eth2.name: "ctr0" is also the container's name for ctr0/);
      // A joined network namespace is the container's too; two templates may share a pattern.
      expect(names(withDevices({ eth1: { name: 'n%d' }, eth2: { name: 'n%d' } }, (s) => {
        s.linux!.namespaces = s.linux!.namespaces!.map((n) => (n.type === 'network' ? { type: 'network', path: '/run/netns/x' } : n));
      })).filter((o) => o === 'sync')).toHaveLength(2);
      expect(listed(withDevices({ 'é0': { name: 'ü1' } }))).toContain('sync netDevice é0');
    });
  });

  test('names longer than the kernel takes are refused naming the field', () => {
    expect(() => buildCreatePlan(input((s) => (s.hostname = 'h'.repeat(65))))).toThrow(/hostname: is longer than 64 bytes/);
    expect(() => buildCreatePlan(input((s) => (s.process!.args = ['a'.repeat(5000)])))).toThrow(/process.args\[0\]: is longer than PATH_MAX/);
  });

  test('an RLIMIT_NOFILE hard limit that leaves no fd to start with is refused', () => {
    expect(() => buildCreatePlan(input((s) => (s.process!.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 0, hard: 0 }])))).toThrow(/process.rlimits\[0\].hard: RLIMIT_NOFILE of 0/);
    expect(() => buildCreatePlan(input((s) => (s.process!.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 0, hard: 16 }])))).not.toThrow();
  });

  test('an option word a bind mount does not know is left out with a warning, as runc leaves it to the kernel', () => {
    const warnings: string[] = [];
    const ops = buildCreatePlan({ ...input((s) => s.mounts!.push({ destination: '/d', type: 'bind', source: '/tmp', options: ['rbind', 'noexecc', 'z'] })), warn: (m) => warnings.push(m) });
    expect(warnings).toEqual(['mounts[7].options: noexecc,z: not known, ignored on a bind mount (as runc does)']);
    const bind = ops.find((o) => o.op === 'mount' && o.args[1] === 'd');
    expect(bind?.args[5]).toBe('');
  });

  test('a relative mount destination is taken below the root with a warning, as runc 1.1 takes it', () => {
    const warnings: string[] = [];
    const ops = buildCreatePlan({ ...input((s) => s.mounts!.push({ destination: 'x/y', type: 'tmpfs', source: 'tmpfs' })), warn: (m) => warnings.push(m) });
    expect(warnings).toEqual(["mounts[7].destination x/y is not absolute: taken below the container's root (as runc does; the spec requires an absolute path)"]);
    expect(ops.some((o) => o.op === 'mount' && o.args[1] === 'x/y')).toBe(true);
  });

  test('startContainer hooks run after the late seccomp filter is loaded (runc\'s order)', () => {
    const ops = names({
      ...input((s) => (s.hooks = { startContainer: [{ path: '/bin/true' }] })),
      seccomp: { flags: 0, program: Buffer.alloc(8) },
    });
    expect(ops.lastIndexOf('hook')).toBeGreaterThan(ops.lastIndexOf('seccomp'));
    expect(ops.lastIndexOf('seccomp')).toBeGreaterThan(ops.indexOf('waitFifo'));
  });

  test('a hook\'s env is its whole environment; without one it gets the process\'s (runc: the init\'s own environment)', () => {
    const hooks = (s: Spec) => {
      s.process!.env = ['PATH=/bin', 'A=1'];
      s.hooks = {
        createContainer: [{ path: '/h0', args: ['h0', 'x'] }, { path: '/h1', env: [] }, { path: '/h2', env: ['B=2'] }],
        startContainer: [{ path: '/s0', args: ['s0'] }, { path: '/s1', env: [] }, { path: '/s2', env: ['B=2'] }],
      };
    };
    const plan = buildCreatePlan(input(hooks));
    const hookArgs = plan.filter((o) => o.op === 'hook').map((o) => o.args.map(String));
    expect(hookArgs).toEqual([
      // Before the pivot, no `env` op has run: the process's list itself (no default HOME yet, as in runc).
      ['createContainer', '0', '0', '/h0', 'hook', '2', 'h0', 'x', 'PATH=/bin', 'A=1'],
      ['createContainer', '1', '0', '/h1', 'hook', '0'],
      ['createContainer', '2', '0', '/h2', 'hook', '0', 'B=2'],
      // After `env` and `defaultHome`: what the process gets, its default HOME included.
      ['startContainer', '0', '0', '/s0', 'process', '1', 's0'],
      ['startContainer', '1', '0', '/s1', 'hook', '0'],
      ['startContainer', '2', '0', '/s2', 'hook', '0', 'B=2'],
    ]);
    const ops = plan.map((o) => o.op);
    expect(ops.indexOf('defaultHome')).toBeLessThan(ops.lastIndexOf('hook'));
  });
});
