// linux.netDevices (runtime-spec 1.3) for real: a veth end moves from the runtime's
// network namespace into the container's, renamed, with its permanent global
// addresses, and up; traffic crosses to the other end. The house rules keep the
// host's own network untouched, so the runtime itself runs in a network namespace
// this suite makes (nsenter --net, which changes nothing else), and the devices are
// veth pairs made there. runc 1.1.5 has no netDevices: tsrun only.

import * as fs from 'fs';
import * as path from 'path';
import { spawn, spawnSync } from 'child_process';
import { Spec } from '../helpers/bundle';
import { flavorOf, runtimeUnderTest, stderrLines, type RuntimeCli } from '../helpers/runtime';
import { isEmpty } from '../helpers/cleanup';
import { containerSkipReason, describeIf, expectOk, useSuite } from '../helpers/suite';

jest.setTimeout(60_000);

const BINARY = runtimeUnderTest();

function skipReason(): string | undefined {
  const container = containerSkipReason();
  if (container) return container;
  if (flavorOf(BINARY) !== 'tsrun') return 'runc 1.1 has no linux.netDevices';
  for (const tool of ['/usr/sbin/ip', '/usr/bin/nsenter']) if (!fs.existsSync(tool)) return `${tool} is missing`;
  return undefined;
}

function ip(...args: string[]): string {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

describeIf(skipReason())(`linux.netDevices (${BINARY})`, () => {
  const s = useSuite('net-devices', BINARY);
  const ns = `tsrun-test-nd-${process.pid}`;
  const joined = `${ns}-joined`;
  let cli: RuntimeCli;
  let pair = 0;

  beforeAll(() => {
    ip('netns', 'add', ns);
    // tsrun, run in the suite's network namespace (and, once it is gone, in ours: the
    // suite's cleanup then still finds the containers).
    const wrapper = path.join(s.env.tmp, 'tsrun-in-netns');
    fs.writeFileSync(wrapper, `#!/bin/sh\n[ -e /run/netns/${ns} ] && exec nsenter --net=/run/netns/${ns} ${BINARY} "$@"\nexec ${BINARY} "$@"\n`, { mode: 0o755 });
    cli = s.addCli(wrapper, 'netns');
  });
  afterEach(() => {
    s.forceClean();
  });
  afterAll(() => {
    for (const name of [ns, joined]) spawnSync('ip', ['netns', 'del', name]);
  });

  /** A veth pair in the suite's namespace: `inner` (to move, with addresses), `outer` 10.203.0.1/24, up. */
  const vethPair = () => {
    pair++;
    const inner = `vi${pair}`;
    const outer = `vo${pair}`;
    ip('-n', ns, 'link', 'add', inner, 'type', 'veth', 'peer', 'name', outer);
    ip('-n', ns, 'addr', 'add', '10.203.0.2/24', 'dev', inner);
    ip('-n', ns, 'addr', 'add', '10.203.0.9/24', 'dev', inner, 'label', `${inner}:al`);
    ip('-n', ns, 'addr', 'add', '2001:db8::2/64', 'dev', inner, 'nodad');
    // Not carried over (the spec keeps permanent addresses of global scope only).
    ip('-n', ns, 'addr', 'add', '10.204.0.5/24', 'dev', inner, 'valid_lft', '100', 'preferred_lft', '100');
    ip('-n', ns, 'addr', 'add', '10.205.0.5/16', 'dev', inner, 'scope', 'host');
    ip('-n', ns, 'addr', 'add', '10.203.0.1/24', 'dev', outer);
    ip('-n', ns, 'link', 'set', outer, 'up');
    return { inner, outer };
  };
  const inSuiteNs = (name: string) => spawnSync('ip', ['-n', ns, 'link', 'show', name]).status === 0;

  const bundle = (devices: Record<string, { name?: string }>, script: string, configure?: (c: Spec) => void) => {
    const b = s.bundle({
      configure: (c) => {
        c.linux.netDevices = devices;
        c.process.args = ['sh', '-c', script];
        for (const set of ['bounding', 'effective', 'permitted'] as const) c.process.capabilities[set].push('CAP_NET_RAW');
        configure?.(c);
      },
    });
    fs.chmodSync(b.dir, 0o755);
    return b;
  };
  const show = (name: string, ping = true) => `ip -o link show ${name}; ip -o addr show dev ${name}${ping ? '; ping -c 1 -W 5 10.203.0.1 | grep received' : ''}`;

  const expectMovedAndUp = (stdout: string, name: string, ping = true) => {
    expect(stdout).toMatch(new RegExp(`^\\d+: ${name}@\\w+: <[^>]*\\bUP\\b`, 'm'));
    expect(stdout).toMatch(new RegExp(`inet 10\\.203\\.0\\.2/24 .*scope global ${name}\\\\`));
    // An IPv4 label follows the rename; IFA_F_NODAD is kept.
    expect(stdout).toMatch(new RegExp(`inet 10\\.203\\.0\\.9/24 .*scope global secondary ${name}:al\\\\`));
    expect(stdout).not.toMatch(/10\.204\.0\.5|10\.205\.0\.5/);
    expect(stdout).toMatch(/inet6 2001:db8::2\/64 scope global flags 02 /); // busybox's spelling of nodad
    if (ping) expect(stdout).toContain('1 packets transmitted, 1 packets received');
  };

  test('a device moves in renamed, with its permanent global addresses, up; traffic reaches the other end', () => {
    const { inner } = vethPair();
    const b = bundle({ [inner]: { name: 'ctr0' } }, show('ctr0'));
    const r = expectOk(cli.runContainer(b.id, b.dir));
    expectMovedAndUp(r.stdout, 'ctr0');
    expect(inSuiteNs(inner)).toBe(false);
  });

  test('in a user namespace of its own (which owns the new network namespace)', () => {
    const { inner } = vethPair();
    const b = bundle({ [inner]: { name: 'ctr0' } }, `grep -q 100000 /proc/self/uid_map && ${show('ctr0')}`, (c) => {
      c.linux.namespaces.push({ type: 'user' });
      c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    });
    expectMovedAndUp(expectOk(cli.runContainer(b.id, b.dir)).stdout, 'ctr0');
  });

  test('without a name the host name is kept; a "%d" template gets the first free number; create + start', async () => {
    const a = vethPair();
    const c = vethPair();
    const b = bundle({ [a.inner]: {}, [c.inner]: { name: 'net%d' } }, `ip -o link show ${a.inner} && ip -o link show net0 && ip -o addr show dev net0`);
    const out = path.join(s.env.tmp, `${b.id}.out`);
    expectOk(cli.create(b.id, b.dir, [], { stdoutFile: out }));
    // Moved at create: gone from the runtime's namespace before start.
    expect([inSuiteNs(a.inner), inSuiteNs(c.inner)]).toEqual([false, false]);
    expectOk(cli.start(b.id));
    await cli.waitStatus(b.id, 'stopped');
    const shown = fs.readFileSync(out, 'utf8');
    expect(shown).toMatch(new RegExp(`^\\d+: ${a.inner}@.*\\n\\d+: net0@`));
    // The label follows the name the kernel chose.
    expect(shown).toMatch(/inet 10\.203\.0\.9\/24 .*secondary net0:al\\/);
    expectOk(cli.delete(b.id));
  });

  const joinNetns = (c: Spec, netnsPath: string) => {
    c.linux.namespaces = c.linux.namespaces.map((n: { type: string }) => (n.type === 'network' ? { type: 'network', path: netnsPath } : n));
  };

  test('a joined network namespace keeps the device after the container (the spec: never moved back); one there with the host name is no obstacle', () => {
    ip('netns', 'add', joined);
    const { inner } = vethPair();
    // The joined namespace has a device of the moving one's host name already.
    ip('-n', joined, 'link', 'add', inner, 'type', 'veth', 'peer', 'name', `${inner}p`);
    const b = bundle({ [inner]: { name: 'kept0' } }, show('kept0'), (c) => joinNetns(c, `/run/netns/${joined}`));
    expectMovedAndUp(expectOk(cli.runContainer(b.id, b.dir)).stdout, 'kept0');
    expect(ip('-n', joined, '-o', 'addr', 'show', 'dev', 'kept0')).toContain('10.203.0.2/24');
  });

  test('a new user namespace joining a network namespace it does not own: tsrun sets the device up there', () => {
    spawnSync('ip', ['netns', 'add', joined]);
    const { inner } = vethPair();
    // No ping: CAP_NET_RAW of the container's user namespace does not reach a network
    // namespace the host's owns (the kernel refuses the raw socket).
    const b = bundle({ [inner]: { name: 'ctr1' } }, `grep -q 100000 /proc/self/uid_map && ${show('ctr1', false)}`, (c) => {
      joinNetns(c, `/run/netns/${joined}`);
      c.linux.namespaces.push({ type: 'user' });
      c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      // sysfs can be mounted only by the user namespace owning the network namespace.
      c.mounts = c.mounts.filter((m: { destination: string }) => !m.destination.startsWith('/sys'));
    });
    expectMovedAndUp(expectOk(cli.runContainer(b.id, b.dir)).stdout, 'ctr1', false);
  });

  test('a step failing after the move puts the device back, named, addressed and up as it was, and says so', () => {
    spawnSync('ip', ['netns', 'add', joined]);
    // IPv6 off in the joined namespace: the device moves, then its IPv6 address is refused.
    for (const scope of ['all', 'default']) spawnSync('ip', ['netns', 'exec', joined, 'sysctl', '-q', '-w', `net.ipv6.conf.${scope}.disable_ipv6=1`]);
    const { inner } = vethPair();
    ip('-n', ns, 'link', 'set', inner, 'up');
    const b = bundle({ [inner]: { name: 'back0' } }, 'true', (c) => joinNetns(c, `/run/netns/${joined}`));
    const r = cli.runContainer(b.id, b.dir);
    expect(r.code).toBe(1);
    expect(stderrLines(r).join('\n')).toMatch(new RegExp(`network device ${inner} \\(adding its address 2001:db8::2/64 in the container's network namespace\\): .*; it was moved back to the runtime's network namespace`));
    expect(spawnSync('ip', ['-n', joined, 'link', 'show', 'back0']).status).not.toBe(0);
    expect(ip('-n', ns, '-o', 'link', 'show', inner)).toMatch(/[<,]UP[,>]/);
    const addresses = ip('-n', ns, '-o', 'addr', 'show', 'dev', inner);
    for (const a of ['10.203.0.2/24', '10.203.0.9/24', '2001:db8::2/64']) expect(addresses).toContain(a);
    expect(addresses).toContain(`${inner}:al`);
    expect(isEmpty(s.leftovers())).toBe(true);
  });

  test('the same with a user namespace (joined with its network namespace, as Kubernetes pods have them): the device comes back all the same', () => {
    // A holder process owns a user namespace (root mapped to root) and a network
    // namespace of that user namespace, made inside the suite's network namespace.
    const holder = spawn('nsenter', [`--net=/run/netns/${ns}`, 'unshare', '--user', '--map-root-user', '--net', 'sleep', '1000'], { stdio: 'ignore' });
    try {
      const pid = holder.pid as number;
      const nsOf = (type: string) => fs.readlinkSync(`/proc/${pid}/ns/${type}`);
      const deadline = Date.now() + 5000;
      while (nsOf('net') === fs.readlinkSync(`/proc/self/ns/net`) || nsOf('user') === fs.readlinkSync('/proc/self/ns/user')) {
        if (Date.now() > deadline) throw new Error('the namespace holder did not start');
      }
      for (const scope of ['all', 'default']) {
        expect(spawnSync('nsenter', ['-t', String(pid), '-U', '-n', '--preserve-credentials', 'sysctl', '-q', '-w', `net.ipv6.conf.${scope}.disable_ipv6=1`]).status).toBe(0);
      }
      const { inner } = vethPair();
      ip('-n', ns, 'link', 'set', inner, 'up');
      const b = bundle({ [inner]: { name: 'back1' } }, 'true', (c) => {
        joinNetns(c, `/proc/${pid}/ns/net`);
        c.linux.namespaces.push({ type: 'user', path: `/proc/${pid}/ns/user` });
      });
      const r = cli.runContainer(b.id, b.dir);
      expect(r.code).toBe(1);
      expect(stderrLines(r).join('\n')).toMatch(new RegExp(`network device ${inner} \\(adding its address 2001:db8::2/64 in the container's network namespace\\): .*; it was moved back to the runtime's network namespace"`));
      expect(ip('-n', ns, '-o', 'link', 'show', inner)).toMatch(/[<,]UP[,>]/);
      const addresses = ip('-n', ns, '-o', 'addr', 'show', 'dev', inner);
    expect(addresses).toContain('10.203.0.2/24');
    // Its label too (eth0:al in the container), back under the host name.
    expect(addresses).toMatch(new RegExp(`10\\.203\\.0\\.9/24 .*${inner}:al`));
      expect(isEmpty(s.leftovers())).toBe(true);
    } finally {
      holder.kill('SIGKILL');
    }
  });

  test('alternative names: a host device named by one is refused, and a container name taken by one counts as taken', () => {
    spawnSync('ip', ['netns', 'add', joined]);
    const { inner } = vethPair();
    ip('-n', ns, 'link', 'property', 'add', 'dev', inner, 'altname', `${inner}alt`);
    ip('-n', joined, 'link', 'add', 'other0', 'type', 'veth', 'peer', 'name', 'other1');
    ip('-n', joined, 'link', 'property', 'add', 'dev', 'other0', 'altname', 'taken0');
    const cases: [Record<string, { name?: string }>, RegExp][] = [
      [{ [`${inner}alt`]: { name: 'x0' } }, new RegExp(`network device ${inner}alt: that is an alternative name of ${inner}; name the device by its name`)],
      [{ [inner]: { name: 'taken0' } }, new RegExp(`network device ${inner}: a device named taken0 exists in the container's network namespace already`)],
    ];
    for (const [devices, message] of cases) {
      const b = bundle(devices, 'true', (c) => joinNetns(c, `/run/netns/${joined}`));
      const r = cli.runContainer(b.id, b.dir);
      expect(r.code).toBe(1);
      expect(stderrLines(r).join('\n')).toMatch(message);
    }
    expect(inSuiteNs(inner)).toBe(true);
  });

  test('failures name the device and leave no container: missing device, name taken (checked before the move), unmovable device', () => {
    const { inner } = vethPair();
    ip('-n', ns, 'link', 'add', 'br-nd', 'type', 'bridge');
    const cases: [Record<string, { name?: string }>, RegExp][] = [
      [{ nope0: {} }, /network device nope0 does not exist in the runtime's network namespace/],
      [{ [inner]: { name: 'lo' } }, new RegExp(`network device ${inner}: a device named lo exists in the container's network namespace already`)],
      // A bridge is local to its namespace (NETIF_F_NETNS_LOCAL): the kernel refuses the move.
      [{ 'br-nd': {} }, /RTM_NEWLINK network device br-nd .*: EINVAL/],
    ];
    const runtimeOwn: [Record<string, { name?: string }>, RegExp] = [{ [inner]: { name: 'renamed0' } }, /the container's network namespace is the runtime's own/];
    for (const [devices, message] of [...cases, runtimeOwn]) {
      const b = bundle(devices, 'true', devices === runtimeOwn[0] ? (c) => joinNetns(c, `/run/netns/${ns}`) : undefined);
      const r = cli.runContainer(b.id, b.dir);
      expect(r.code).toBe(1);
      expect(stderrLines(r).join('\n')).toMatch(message);
      expect(cli.list().stdout).not.toContain(b.id);
    }
    // The refused rename happened before anything moved; joined to the runtime's own
    // namespace, the device was not renamed there either.
    expect(inSuiteNs(inner)).toBe(true);
    expect(inSuiteNs('renamed0')).toBe(false);
    expect(inSuiteNs('br-nd')).toBe(true);
    expect(isEmpty(s.leftovers())).toBe(true);
  });

  test('a later device the kernel will not move (a bridge) fails the create, and the veth moved before it comes back with its address', () => {
    const { inner, outer } = vethPair();
    ip('-n', ns, 'link', 'add', 'br-later', 'type', 'bridge');
    const b = bundle({ [inner]: { name: 'eth0' }, 'br-later': {} }, 'true');
    const r = cli.runContainer(b.id, b.dir);
    expect(r.code).toBe(1);
    expect(stderrLines(r).join('\n')).toMatch(new RegExp(`network device br-later .*: EINVAL.*; ${inner}, moved before it: it was moved back to the runtime's network namespace`));
    expect([inSuiteNs(inner), inSuiteNs(outer), inSuiteNs('br-later')]).toEqual([true, true, true]);
    const addresses = ip('-n', ns, '-o', 'addr', 'show', 'dev', inner);
    expect(addresses).toContain('10.203.0.2/24');
    // Its label too (eth0:al in the container), back under the host name.
    expect(addresses).toMatch(new RegExp(`10\\.203\\.0\\.9/24 .*${inner}:al`));
    expect(isEmpty(s.leftovers())).toBe(true);
  });

  test('every device is checked before the first moves: a missing one listed later leaves the earlier veth on the host (moved, it would die with the namespace)', () => {
    const { inner, outer } = vethPair();
    const b = bundle({ [inner]: { name: 'eth0' }, nope1: {} }, 'true');
    const r = cli.runContainer(b.id, b.dir);
    expect(r.code).toBe(1);
    expect(stderrLines(r).join('\n')).toMatch(/network device nope1 does not exist in the runtime's network namespace/);
    expect([inSuiteNs(inner), inSuiteNs(outer)]).toEqual([true, true]);
    expect(isEmpty(s.leftovers())).toBe(true);
  });
});
