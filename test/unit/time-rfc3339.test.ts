import { formatRfc3339, formatRfc3339Nano } from '../../src/time/rfc3339';

/** Date's own answer, the reference the arithmetic must agree with. */
function byDate(seconds: number): string {
  return new Date(seconds * 1000).toISOString().slice(0, 19);
}

describe('formatRfc3339Nano', () => {
  test('Go RFC3339Nano formatting: UTC, nanoseconds, trailing zeros trimmed', () => {
    expect(formatRfc3339Nano(1700000000, 0)).toBe('2023-11-14T22:13:20Z');
    expect(formatRfc3339Nano(1700000000, 123500000)).toBe('2023-11-14T22:13:20.1235Z');
    expect(formatRfc3339Nano(1700000000, 100000000)).toBe('2023-11-14T22:13:20.1Z');
    expect(formatRfc3339Nano(1700000000, 7)).toBe('2023-11-14T22:13:20.000000007Z');
    expect(formatRfc3339Nano(1700000000, 999999999)).toBe('2023-11-14T22:13:20.999999999Z');
  });

  test('calendar edges agree with Date: epoch, leap days, century years, year ends', () => {
    const days = [
      '1970-01-01', '1972-02-29', '1999-12-31', '2000-02-29', '2000-03-01', '2024-02-29',
      '2100-02-28', '2100-03-01', '2400-02-29', '2026-12-31', '9999-12-31', '1969-12-31', '1600-03-01',
    ];
    for (const day of days) {
      for (const time of ['00:00:00', '23:59:59', '12:34:56']) {
        const seconds = Date.parse(`${day}T${time}Z`) / 1000;
        expect(formatRfc3339Nano(seconds, 0)).toBe(`${day}T${time}Z`);
      }
    }
  });

  test('agrees with Date over 20,000 spread-out seconds', () => {
    let seconds = -2_000_000_000;
    for (let i = 0; i < 20_000; i++, seconds += 987_654 + (i % 86_400)) {
      expect(formatRfc3339Nano(seconds, 0)).toBe(`${byDate(seconds)}Z`);
    }
  });
});

describe('formatRfc3339', () => {
  test('Z at UTC, else the offset, with the wall-clock time of that zone', () => {
    expect(formatRfc3339(1700000000, 0)).toBe('2023-11-14T22:13:20Z');
    expect(formatRfc3339(1700000000, 60)).toBe('2023-11-14T23:13:20+01:00');
    expect(formatRfc3339(1700000000, 330)).toBe('2023-11-15T03:43:20+05:30');
    expect(formatRfc3339(1700000000, -480)).toBe('2023-11-14T14:13:20-08:00');
    expect(formatRfc3339(1700000000.9, 0)).toBe('2023-11-14T22:13:20Z');
  });
});
