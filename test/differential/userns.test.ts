// Differential, user namespaces: a busybox container with linux.uidMappings and
// gidMappings under runc and under tsrun sees the same maps, setgroups, ids,
// capabilities and mounts -- the mounts in the same order (in a user namespace the
// devices are bind mounts of the host's nodes, so their order shows), with only
// mount ids, anonymous device numbers and the per-run paths normalised away.
//
// One documented difference: runc 1.1 unshares the IPC namespace after becoming uid 0
// but before setting its gid, so the mqueue filesystem (made at unshare time, owned by
// the unsharer's fsuid/fsgid) has the overflow group (65534) at its root. tsrun becomes
// root (uid and gid) first: the container's root group owns /dev/mqueue. The group of
// that one line is not compared.

import * as fs from 'fs';
import { Spec } from '../helpers/bundle';
import { RUNC_BINARY, runtimeUnderTest } from '../helpers/runtime';
import { differentialSkipReason, describeIf, Suite, useSuite } from '../helpers/suite';

jest.setTimeout(120_000);

const BINARY = runtimeUnderTest();


const PROBE = [
  'echo "== uid_map"; cat /proc/self/uid_map',
  'echo "== gid_map"; cat /proc/self/gid_map',
  'echo "== setgroups"; cat /proc/self/setgroups',
  'echo "== id"; id',
  `echo "== status"; grep -E '^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs|Uid|Gid|Groups):' /proc/self/status`,
  'echo "== dev"; ls -ln /dev | sed 1d',
  'echo "== owner"; stat -c "%n %u:%g" / /bin/busybox /proc/1 /dev/null /sys',
  'echo "== mkdir"; mkdir /tmp/x && echo ok',
  'echo "== mountinfo"; cat /proc/self/mountinfo',
].join('; ');

const MAPS = {
  'one range for every id': (c: Spec) => {
    c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  },
  'split ranges, different for uids and gids': (c: Spec) => {
    c.linux.uidMappings = [{ containerID: 0, hostID: 200000, size: 1 }, { containerID: 1, hostID: 300001, size: 65535 }];
    c.linux.gidMappings = [{ containerID: 0, hostID: 210000, size: 1000 }, { containerID: 1000, hostID: 311000, size: 1000 }];
  },
} as const;

describeIf(differentialSkipReason())(`differential user namespaces: runc vs ${BINARY}`, () => {
  const t = useSuite('userns-t', BINARY);
  const r = useSuite('userns-r', RUNC_BINARY);

  const probe = (s: Suite, maps: (c: Spec) => void, user?: { uid: number; gid: number }) => {
    const b = s.bundle({
      configure: (c) => {
        c.root.readonly = false;
        c.linux.namespaces.push({ type: 'user' });
        maps(c);
        if (user) c.process.user = user;
        c.process.args = ['sh', '-c', PROBE];
      },
    });
    // The container's root is a host uid that is "other" to the root-owned bundle dir
    // (mkdtemp makes it 0700): it must be able to reach the rootfs.
    fs.chmodSync(b.dir, 0o755);
    const out = s.cli.runContainer(b.id, b.dir);
    const stdout = out.stdout
      .split('\n')
      .map((l) => {
        const m = /^\d+ \d+ (\d+:\d+) (.*)$/.exec(l);
        if (!m) return l;
        const dev = m[1].startsWith('0:') ? '<anon>' : m[1];
        return `${dev} ${m[2]}`.split(b.rootfs).join('<rootfs>').split(b.cgroupsPath).join('<cgroup>');
      })
      .join('\n')
      .replace(/^(drwxrwxrwt +\d+ +\d+) +\d+ +(.* mqueue)$/m, '$1 <group> $2');
    return { code: out.code, stderr: out.stderr.replace(/^time="[^"]*" /gm, ''), stdout };
  };

  test.each(Object.keys(MAPS))('%s, root in the container', (name) => {
    const runc = probe(r, MAPS[name as keyof typeof MAPS]);
    const tsrun = probe(t, MAPS[name as keyof typeof MAPS]);
    expect({ code: runc.code, stderr: runc.stderr }).toEqual({ code: 0, stderr: '' });
    expect(runc.stdout).toMatch(/== id\nuid=0\(root\) gid=0\(root\)/);
    expect(tsrun).toEqual(runc);
  });

  test('a non-root user inside the user namespace', () => {
    const runc = probe(r, MAPS['one range for every id'], { uid: 1000, gid: 1000 });
    const tsrun = probe(t, MAPS['one range for every id'], { uid: 1000, gid: 1000 });
    expect(runc.code).toBe(0);
    expect(runc.stdout).toMatch(/== id\nuid=1000\(user\) gid=1000\(user\)/);
    expect(tsrun).toEqual(runc);
  });
});
