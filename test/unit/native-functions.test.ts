// The addon makes each of its functions when first asked for (addon/native/module.cpp,
// src/native.ts addonFunctions): what a load of it holds, and what asking gives.
import * as path from 'path';
import { addonFunctions, type AddonModule } from '../../src/native';

function loadRaw(): AddonModule {
  const module = { exports: {} as AddonModule };
  process.dlopen(module, path.join(__dirname, '..', '..', '..', 'build', 'Release', 'tsrun_native.node'));
  return module.exports;
}

test('a load makes no function but the two that make the others', () => {
  expect(Object.keys(loadRaw()).sort()).toEqual(['functionNamed', 'functionNames']);
});

test('every name the addon knows gives a function, made once; any other name nothing', () => {
  const raw = loadRaw();
  const names = raw.functionNames();
  // What each kind of command needs first is among them.
  for (const name of ['spawnInit', 'readLatin1', 'readBytes', 'exitNow', 'readText', 'encodePlan', 'flock']) expect(names).toContain(name);
  let made = 0;
  const counted: AddonModule = {
    functionNamed: (name) => {
      made++;
      return raw.functionNamed(name);
    },
    functionNames: () => raw.functionNames(),
  };
  const addon = addonFunctions(counted) as unknown as Record<string, unknown>;
  for (const name of names) expect(typeof addon[name]).toBe('function');
  expect(made).toBe(names.length);
  for (const name of names) expect(addon[name]).toBe(addon[name]);
  expect(made).toBe(names.length);
  expect(addon['noSuchFunction']).toBeUndefined();
  expect(addon[Symbol.iterator as unknown as string]).toBeUndefined();
  expect(raw.functionNamed('noSuchFunction')).toBeUndefined();
  // A function made on demand works as the eager ones did: arguments checked, errors thrown.
  const readText = addon['readText'] as (file: string) => string;
  expect(readText('/proc/self/stat')).toMatch(/^\d+ /);
  expect(() => readText(5 as unknown as string)).toThrow(/readText: path must be a string/);
});
