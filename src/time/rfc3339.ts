// RFC 3339 timestamps by arithmetic. V8's first Date#toISOString costs about
// 0.2 ms (it sets up its date cache), and every `create` writes one timestamp:
// a civil date from a day count is a few integer steps.

/** Year, month (1-12) and day of the proleptic Gregorian calendar for a day count since 1970-01-01. */
function civilDate(days: number): { year: number; month: number; day: number } {
  // Count from 0000-03-01 so that the leap day ends each 400-year era's year.
  const shifted = days + 719_468;
  const era = Math.floor(shifted / 146_097);
  const dayOfEra = shifted - era * 146_097; // 0..146096
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100)); // 0..365, from March 1
  const shiftedMonth = Math.floor((5 * dayOfYear + 2) / 153); // 0 = March .. 11 = February
  const day = dayOfYear - Math.floor((153 * shiftedMonth + 2) / 5) + 1;
  const month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  return { year, month, day };
}

function two(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** `YYYY-MM-DDTHH:MM:SS` for whole seconds since the epoch, read as wall-clock time at UTC+0. */
function dateTime(seconds: number): string {
  const days = Math.floor(seconds / 86_400);
  const secondOfDay = seconds - days * 86_400;
  const { year, month, day } = civilDate(days);
  const hh = Math.floor(secondOfDay / 3600);
  const mm = Math.floor((secondOfDay % 3600) / 60);
  return `${String(year).padStart(4, '0')}-${two(month)}-${two(day)}T${two(hh)}:${two(mm)}:${two(secondOfDay % 60)}`;
}

/**
 * UTC with nanoseconds, as runc writes a container's `created` (Go's
 * time.RFC3339Nano): the fraction's trailing zeros are dropped, and with them the dot.
 */
export function formatRfc3339Nano(seconds: number, nanos: number): string {
  let frac = nanos > 0 ? String(nanos).padStart(9, '0') : '';
  let end = frac.length;
  while (end > 0 && frac[end - 1] === '0') end--;
  frac = frac.slice(0, end);
  return `${dateTime(Math.floor(seconds))}${frac ? `.${frac}` : ''}Z`;
}

/**
 * Whole seconds in a zone `offsetMinutes` east of UTC, as runc's log lines carry
 * them (Go's time.RFC3339): `Z` at UTC, else `+hh:mm` / `-hh:mm`.
 */
export function formatRfc3339(seconds: number, offsetMinutes: number): string {
  const local = dateTime(Math.floor(seconds) + offsetMinutes * 60);
  if (offsetMinutes === 0) return `${local}Z`;
  const abs = Math.abs(offsetMinutes);
  return `${local}${offsetMinutes < 0 ? '-' : '+'}${two(Math.floor(abs / 60))}:${two(abs % 60)}`;
}
