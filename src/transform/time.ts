/**
 * RFC 3339 timestamps as bigint nanoseconds. `Date` keeps only milliseconds, but Kubernetes
 * writes `eventTime` and `series.lastObservedTime` with microseconds, and an entry must carry the
 * precision the event has so that a re-send is byte-identical.
 */

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

const NS_PER_SECOND = 1_000_000_000n;

/**
 * The last time parsed: an event's timestamps are mostly one and the same string (first, last and
 * creation time), so one entry catches most repeats.
 */
let lastText = '';
let lastNs: bigint | undefined;

/** Nanoseconds since the epoch, or undefined when `text` is not a valid RFC 3339 time. */
export function parseRfc3339Ns(text: string): bigint | undefined {
  if (text === lastText) return lastNs;
  const ns = parse(text);
  lastText = text;
  lastNs = ns;
  return ns;
}

function parse(text: string): bigint | undefined {
  const m = RFC3339.exec(text);
  if (m === null) return undefined;
  const [, y, mo, d, h, mi, s, frac, , sign, oh, om] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return undefined;
  if (day > daysInMonth(year, month)) return undefined;
  let offsetSeconds = 0;
  if (sign !== undefined) {
    const offH = Number(oh);
    const offM = Number(om);
    if (offH > 23 || offM > 59) return undefined;
    offsetSeconds = (sign === '-' ? -1 : 1) * (offH * 3600 + offM * 60);
  }
  // Whole seconds stay far below 2^53, so plain numbers are exact; only the final step needs bigint.
  const seconds = daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offsetSeconds;
  const fractionNs = frac === undefined ? 0n : BigInt(frac.padEnd(9, '0'));
  return BigInt(seconds) * NS_PER_SECOND + fractionNs;
}

let lastFormattedNs: bigint | undefined;
let lastFormatted = '';

/** Canonical UTC form: `2026-11-26T10:58:39.907656Z`, fraction without trailing zeros. */
export function formatRfc3339Ns(ns: bigint): string {
  // A line carries first_seen and last_seen, mostly the same time: format it once.
  if (ns === lastFormattedNs) return lastFormatted;
  lastFormatted = format(ns);
  lastFormattedNs = ns;
  return lastFormatted;
}

function format(ns: bigint): string {
  let seconds = ns / NS_PER_SECOND;
  let fraction = ns % NS_PER_SECOND;
  if (fraction < 0n) {
    fraction += NS_PER_SECOND;
    seconds -= 1n;
  }
  const total = Number(seconds);
  const days = Math.floor(total / 86400);
  const inDay = total - days * 86400;
  const [year, month, day] = civilFromDays(days);
  const base = `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}T${pad(Math.floor(inDay / 3600), 2)}:${pad(Math.floor(inDay / 60) % 60, 2)}:${pad(inDay % 60, 2)}`;
  if (fraction === 0n) return `${base}Z`;
  return `${base}.${fraction.toString().padStart(9, '0').replace(/0+$/, '')}Z`;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

// Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian, day 0 = 1970-01-01).
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function civilFromDays(days: number): [number, number, number] {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return [era * 400 + yoe + (month <= 2 ? 1 : 0), month, day];
}
