import { normalizeArgv } from '../../src/cli/argv';
import { parseSignal } from '../../src/lifecycle/signals';

describe('Go-style flags', () => {
  test('single-dash long flags that tsrun knows become double-dash', () => {
    expect(normalizeArgv(['-root', '/r', '-log=/l', 'run', '-no-subreaper', '-d', 'id'])).toEqual([
      '--root', '/r', '--log=/l', 'run', '--no-subreaper', '-d', 'id',
    ]);
  });
  test('unknown words and everything after -- are left alone', () => {
    expect(normalizeArgv(['kill', 'my-id', 'KILL', '-x', '--', '-root'])).toEqual(['kill', 'my-id', 'KILL', '-x', '--', '-root']);
  });
});

describe('signals', () => {
  test.each([
    ['KILL', 9], ['SIGKILL', 9], ['kill', 9], ['9', 9], ['+15', 15], ['015', 15], ['TERM', 15], ['SIGUSR1', 10], ['RTMIN+2', 36], ['SIGRTMAX', 64], ['0', 0],
  ])('%s -> %d', (name, n) => expect(parseSignal(name)).toBe(n));
  test('default is SIGTERM, also when given empty (runc)', () => {
    expect(parseSignal(undefined)).toBe(15);
    expect(parseSignal('')).toBe(15);
  });
  test('spaces are not trimmed (runc)', () => {
    expect(() => parseSignal(' 9')).toThrow(/unknown signal " 9"/);
    expect(() => parseSignal('KILL ')).toThrow(/unknown signal "KILL "/);
  });
  test('bad names are errors', () => {
    expect(() => parseSignal('NOPE')).toThrow(/unknown signal "NOPE"/);
    expect(() => parseSignal('99')).toThrow(/invalid signal/);
    expect(() => parseSignal('-9')).toThrow(/unknown signal "-9"/);
    expect(() => parseSignal('+')).toThrow(/unknown signal "\+"/);
  });
});

import { assignPositionals, commandSpec, parseFlags, recordBuilder, type ParsedArgv } from '../../src/cli/fast-parse';
import { exec } from '../../src/cli/commands/exec';
import { create } from '../../src/cli/commands/create';
import { list, table } from '../../src/cli/commands/list';
import { rootlessSpec } from '../../src/config/rootless-spec';

describe('fast argv parser', () => {
  const fresh = (): ParsedArgv => ({ _: [], $0: 'tsrun' });
  test('reads flag declarations from the command modules', () => {
    const spec = commandSpec(create);
    expect(spec.name).toBe('create');
    expect(spec.positionals).toEqual([{ name: 'container-id', variadic: false }]);
    expect(spec.flags.find((f) => f.name === 'bundle')).toMatchObject({ aliases: ['b'], type: 'string', default: '.' });
  });
  test('GNU and Go spellings, booleans with values, numbers, defaults', () => {
    const out = fresh();
    const spec = commandSpec(create);
    const words = parseFlags(['-b', '/b', '--pid-file=/p', '--no-pivot=false', '--preserve-fds', '2', 'id1'], spec.flags, out, { stopAtPositional: false });
    assignPositionals(spec, words, out);
    expect(out).toMatchObject({ bundle: '/b', b: '/b', 'pid-file': '/p', pidFile: '/p', 'no-pivot': false, 'preserve-fds': 2, 'container-id': 'id1' });
    expect(out['no-new-keyring']).toBe(false);
  });
  test('a boolean flag takes every word Go\'s strconv.ParseBool takes, as runc\'s flags do', () => {
    for (const [word, value] of [['1', true], ['t', true], ['T', true], ['TRUE', true], ['True', true], ['0', false], ['f', false], ['F', false], ['FALSE', false], ['False', false]] as const) {
      const out = fresh();
      parseFlags([`--no-pivot=${word}`, 'id1'], commandSpec(create).flags, out, { stopAtPositional: false });
      expect({ word, value: out['no-pivot'] }).toEqual({ word, value });
    }
    for (const word of ['yes', 'tRUE', 'on', '']) {
      expect(() => parseFlags([`--no-pivot=${word}`, 'id1'], commandSpec(create).flags, fresh(), { stopAtPositional: false })).toThrow(`invalid boolean value "${word}"`);
    }
  });
  test('a repeated flag collects its values, once each (exec -e, -g)', () => {
    const out = fresh();
    parseFlags(['-e', 'A=b', '--env', 'C=d', '-g', '10', '-g', '20', 'id'], commandSpec(exec).flags, out, { stopAtPositional: false });
    expect(out['env']).toEqual(['A=b', 'C=d']);
    expect(out['e']).toEqual(['A=b', 'C=d']);
    expect(out['additional-gids']).toEqual(['10', '20']);
  });
  test('any other flag given twice keeps its last value, as in runc (a wrapper\'s --root before the user\'s)', () => {
    const out = fresh();
    parseFlags(['-u', '5', '--user', '7', '--cwd', '/nonexist', '--cwd', '/tmp', '-e', 'A=b', 'id'], commandSpec(exec).flags, out, { stopAtPositional: false });
    expect({ user: out['user'], u: out['u'], cwd: out['cwd'], env: out['env'] }).toEqual({ user: '7', u: '7', cwd: '/tmp', env: ['A=b'] });
    const globals = fresh();
    parseFlags(['--root', '/a', '--root', '/b', 'list'], recordBuilder((y) => y.option('root', { type: 'string' })), globals, { stopAtPositional: true });
    expect(globals['root']).toBe('/b');
  });
  test('errors read like runc\'s', () => {
    expect(() => parseFlags(['--nope'], commandSpec(create).flags, fresh(), { stopAtPositional: false })).toThrow('flag provided but not defined: -nope');
    expect(() => parseFlags(['--preserve-fds', 'x'], commandSpec(create).flags, fresh(), { stopAtPositional: false })).toThrow(/invalid value "x"/);
    expect(() => parseFlags(['--bundle'], commandSpec(create).flags, fresh(), { stopAtPositional: false })).toThrow(/flag needs an argument/);
  });
  test('global flags stop at the command word', () => {
    const out = fresh();
    const rest = parseFlags(['--root', '/r', '--log-format=json', 'kill', 'id', 'KILL'], recordBuilder((y) => y.option('root', { type: 'string' }).option('log-format', { type: 'string' })), out, { stopAtPositional: true });
    expect(rest).toEqual(['kill', 'id', 'KILL']);
    expect(out['log-format']).toBe('json');
  });
});

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { systemErrorMessage } from '../../src/cli/system-error';

describe('system errors said as runc says them', () => {
  const thrown = (f: () => unknown): NodeJS.ErrnoException => {
    try {
      f();
    } catch (e) {
      return e as NodeJS.ErrnoException;
    }
    throw new Error('did not throw');
  };

  test('syscall, path(s), then the description: Go\'s PathError and LinkError', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-syserr-'));
    try {
      const file = path.join(dir, 'file');
      fs.writeFileSync(file, '');
      expect(systemErrorMessage(thrown(() => fs.mkdirSync(path.join(file, 'x'))))).toBe(`mkdir ${file}/x: not a directory`);
      // Node's "scandir" is no system call: Go names the open.
      expect(systemErrorMessage(thrown(() => fs.readdirSync(file)))).toBe(`open ${file}: not a directory`);
      expect(systemErrorMessage(thrown(() => fs.renameSync(path.join(dir, 'none'), path.join(dir, 'b'))))).toBe(`rename ${dir}/none ${dir}/b: no such file or directory`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('any other error is left to the caller', () => {
    expect(systemErrorMessage(new Error('plain'))).toBeUndefined();
    expect(systemErrorMessage(Object.assign(new Error('EBADF: bad file descriptor, close'), { code: 'EBADF', syscall: 'close' }))).toBeUndefined();
  });
});

describe('list and spec as runc prints and writes them', () => {
  test('list\'s table counts a cell\'s width in code points, as Go\'s tabwriter does (an emoji is one, not two)', () => {
    // As runc 1.1.5 pads a bundle /bundles/é中😀: 12 code points, a column of 15.
    expect(table([['ID', 'BUNDLE', 'OWNER'], ['c1', '/bundles/é中😀', 'root']])).toBe(
      'ID          BUNDLE         OWNER\n' + 'c1          /bundles/é中😀   root\n',
    );
  });
  test('list --quiet prints the ids whatever --format says; without it a bad format is refused', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-list-'));
    try {
      const argv = (quiet: boolean) => ({ _: ['list'], $0: 'tsrun', root, 'log-format': 'text', debug: false, 'systemd-cgroup': false, rootless: 'auto', format: 'yaml', quiet }) as never;
      expect(() => list.handler(argv(true))).not.toThrow();
      expect(() => list.handler(argv(false))).toThrow(/invalid format option "yaml"/);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  test('spec --rootless: the id mappings come first in linux, as runc writes them', () => {
    expect(Object.keys(rootlessSpec(1000, 1000).linux ?? {})).toEqual(['uidMappings', 'gidMappings', 'namespaces', 'maskedPaths', 'readonlyPaths']);
  });
});
