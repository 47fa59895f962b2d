import { validateContainerId, isValidContainerId, MAX_ID_LENGTH } from '../../src/state/ids';
import { ConfigError, InvalidContainerIdError } from '../../src/errors';

describe('validateContainerId', () => {
  const valid = ['a', 'abc', 'A-Z_0.9', 'x+y', 'a,b', '...', '.hidden', 'a..b', '-', 'x'.repeat(MAX_ID_LENGTH)];
  const invalid: Array<[string, RegExp]> = [
    ['', /must not be empty/],
    ['.', /must not be "\." or "\.\."/],
    ['..', /must not be "\." or "\.\."/],
    ['../x', /only letters/],
    ['a/b', /only letters/],
    ['/abs', /only letters/],
    ['has space', /only letters/],
    ['tab\there', /only letters/],
    ['nul\0', /only letters/],
    ['colon:x', /only letters/],
    ['ünicode', /only letters/],
    ['x'.repeat(MAX_ID_LENGTH + 1), /longer than 1024/],
  ];

  test.each(valid)('accepts %j', (id) => {
    expect(() => validateContainerId(id)).not.toThrow();
    expect(isValidContainerId(id)).toBe(true);
  });

  test.each(invalid)('rejects %j', (id, reason) => {
    expect(() => validateContainerId(id)).toThrow(reason);
    expect(isValidContainerId(id)).toBe(false);
  });

  test('the error is a ConfigError on field "id" whose message quotes the id', () => {
    let caught: unknown;
    try {
      validateContainerId('../x');
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(InvalidContainerIdError);
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).field).toBe('id');
    expect((caught as Error).message).toMatch(/^invalid container id "\.\.\/x": /);
  });
});
