// linux.netDevices (runtime-spec 1.3) for real: a veth end moves from the runtime's
// network namespace into the container's, renamed, with its permanent global
// addresses, and up; traffic crosses to the other end. The house rules keep the
// host's own network untouched, so the runtime itself runs in a network namespace
// this suite makes (nsenter --net, which changes nothing else), and the devices are
// veth pairs made there. runc 1.1.5 has no netDevices: tsrun only.

import * as fs from 'fs';
import * as path from 'path';
import { spawnSync } from 'child_process';
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
  const show = (name: string) => `ip -o link show ${name}; ip -o addr show dev ${name}; ping -c 1 -W 5 10.203.0.1 | grep received`;

  const expectMovedAndUp = (stdout: string, name: string) => {
    expect(stdout).toMatch(new RegExp(`^\\d+: ${name}@\\w+: <[^>]*\\bUP\\b`, 'm'));
    expect(stdout).toMatch(new RegExp(`inet 10\\.203\\.0\\.2/24 .*scope global ${name}\\\\`));
    // An IPv4 label follows the rename; IFA_F_NODAD is kept.
    expect(stdout).toMatch(new RegExp(`inet 10\\.203\\.0\\.9/24 .*scope global secondary ${name}:al\\\\`));
    expect(stdout).toMatch(/inet6 2001:db8::2\/64 scope global flags 02 /); // busybox's spelling of nodad
    expect(stdout).toContain('1 packets transmitted, 1 packets received');
  };

  test('a device moves in renamed, with its permanent global addresses, up; traffic reaches the other end', () => {
    const { inner } = vethPair();
    const b = bundle({ [inner]: { name: 'ctr0' } }, show('ctr0'));
    const r = expectOk(cli.runContainer(b.id, b.dir));
    expectMovedAndUp(r.stdout, 'ctr0');
    expect(inSuiteNs(inner)).toBe(false);
  });

  test('in a user namespace of its own: tsrun moves the device, the container\'s root sets it up', () => {
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
    const b = bundle({ [a.inner]: {}, [c.inner]: { name: 'net%d' } }, `ip -o link show ${a.inner} && ip -o link show net0`);
    const out = path.join(s.env.tmp, `${b.id}.out`);
    expectOk(cli.create(b.id, b.dir, [], { stdoutFile: out }));
    // Moved at create: gone from the runtime's namespace before start.
    expect([inSuiteNs(a.inner), inSuiteNs(c.inner)]).toEqual([false, false]);
    expectOk(cli.start(b.id));
    await cli.waitStatus(b.id, 'stopped');
    expect(fs.readFileSync(out, 'utf8')).toMatch(new RegExp(`^\\d+: ${a.inner}@.*\\n\\d+: net0@`));
    expectOk(cli.delete(b.id));
  });

  test('a joined network namespace keeps the device after the container (the spec: never moved back)', () => {
    ip('netns', 'add', joined);
    const { inner } = vethPair();
    const b = bundle({ [inner]: { name: 'kept0' } }, show('kept0'), (c) => {
      c.linux.namespaces = c.linux.namespaces.map((n: { type: string }) => (n.type === 'network' ? { type: 'network', path: `/run/netns/${joined}` } : n));
    });
    expectMovedAndUp(expectOk(cli.runContainer(b.id, b.dir)).stdout, 'kept0');
    expect(ip('-n', joined, '-o', 'addr', 'show', 'dev', 'kept0')).toContain('10.203.0.2/24');
  });

  test('failures name the device and leave no container: missing device, name taken (checked before the move), unmovable device', () => {
    const { inner } = vethPair();
    ip('-n', ns, 'link', 'add', 'br-nd', 'type', 'bridge');
    const cases: [Record<string, { name?: string }>, RegExp][] = [
      [{ nope0: {} }, /network device nope0 does not exist in the runtime's network namespace/],
      [{ [inner]: { name: 'lo' } }, new RegExp(`netDevice ${inner}: a device named lo exists in the container's network namespace already`)],
      // A bridge is local to its namespace (NETIF_F_NETNS_LOCAL): the kernel refuses the move.
      [{ 'br-nd': {} }, /RTM_NEWLINK network device br-nd .*: EINVAL/],
    ];
    for (const [devices, message] of cases) {
      const b = bundle(devices, 'true');
      const r = cli.runContainer(b.id, b.dir);
      expect(r.code).toBe(1);
      expect(stderrLines(r).join('\n')).toMatch(message);
      expect(cli.list().stdout).not.toContain(b.id);
    }
    // The refused rename happened before anything moved.
    expect(inSuiteNs(inner)).toBe(true);
    expect(inSuiteNs('br-nd')).toBe(true);
    expect(isEmpty(s.leftovers())).toBe(true);
  });
});
