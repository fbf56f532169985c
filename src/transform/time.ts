/**
 * RFC 3339 timestamps as bigint nanoseconds. `Date` keeps only milliseconds, but Kubernetes
 * writes `eventTime` and `series.lastObservedTime` with microseconds, and an entry must carry the
 * precision the event has so that a re-send is byte-identical.
 */

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

const NS_PER_SECOND = 1_000_000_000n;

/**
 * The last two times parsed: an event's timestamps are mostly one or two strings (first, last and
 * creation time) and the next event's often repeat them, so two entries catch most repeats.
 */
let lastText = '';
let lastNs: bigint | undefined;
let otherText = '';
let otherNs: bigint | undefined;

/** Nanoseconds since the epoch, or undefined when `text` is not a valid RFC 3339 time. */
export function parseRfc3339Ns(text: string): bigint | undefined {
  if (text === lastText) return lastNs;
  if (text === otherText) {
    const ns = otherNs;
    otherText = lastText;
    otherNs = lastNs;
    lastText = text;
    lastNs = ns;
    return ns;
  }
  const ns = parseUtc(text);
  otherText = lastText;
  otherNs = lastNs;
  lastText = text;
  lastNs = ns;
  return ns;
}

const ZERO = 48;

/** Digits `at`…`at + n - 1` as a number; -1 if any is not a digit. */
function digits(text: string, at: number, n: number): number {
  let v = 0;
  for (let i = at; i < at + n; i++) {
    const d = text.charCodeAt(i) - ZERO;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/**
 * What Kubernetes writes (`2026-11-26T10:58:39Z`, `…39.907656Z`) read without the regular
 * expression; anything else (an offset, a malformed time) goes through `parse`.
 */
function parseUtc(text: string): bigint | undefined {
  const len = text.length;
  const zone = text.charCodeAt(len - 1);
  if (len < 20 || (zone !== 90 && zone !== 122) || text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45 || text.charCodeAt(13) !== 58 || text.charCodeAt(16) !== 58) return parse(text);
  const t = text.charCodeAt(10);
  if (t !== 84 && t !== 116) return parse(text);
  let fraction = 0;
  if (len > 20) {
    // `.` then 1 to 9 digits, then the zone.
    const n = len - 21;
    if (text.charCodeAt(19) !== 46 || n < 1 || n > 9) return parse(text);
    fraction = digits(text, 20, n);
    if (fraction < 0) return parse(text);
    for (let i = n; i < 9; i++) fraction *= 10;
  }
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 2);
  const day = digits(text, 8, 2);
  const hour = digits(text, 11, 2);
  const minute = digits(text, 14, 2);
  const second = digits(text, 17, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return undefined;
  if (day > daysInMonth(year, month)) return undefined;
  const seconds = daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
  return BigInt(seconds) * NS_PER_SECOND + BigInt(fraction);
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
let otherFormattedNs: bigint | undefined;
let otherFormatted = '';

/** Canonical UTC form: `2026-11-26T10:58:39.907656Z`, fraction without trailing zeros. */
export function formatRfc3339Ns(ns: bigint): string {
  // A line carries first_seen and last_seen, often the same time, and the next event's often
  // repeat them: the last two are kept.
  if (ns === lastFormattedNs) return lastFormatted;
  // The time was most likely just parsed (an event's own first and last time): when its text is
  // already the canonical form, that text is the answer.
  const text =
    ns === otherFormattedNs
      ? otherFormatted
      : ns === lastNs && isCanonical(lastText)
        ? lastText
        : ns === otherNs && isCanonical(otherText)
          ? otherText
          : format(ns);
  otherFormattedNs = lastFormattedNs;
  otherFormatted = lastFormatted;
  lastFormattedNs = ns;
  lastFormatted = text;
  return text;
}

/**
 * Whether `text`, a time that parsed, is what `format` makes of it: `T` and `Z` upper case, no
 * offset, and a fraction (if any) without trailing zeros. The fields themselves were checked by
 * the parse (fixed widths, valid ranges), so their digits come back the same.
 */
function isCanonical(text: string): boolean {
  const len = text.length;
  if (len < 20 || text.charCodeAt(10) !== 84 || text.charCodeAt(len - 1) !== 90) return false;
  return len === 20 || (text.charCodeAt(19) === 46 && text.charCodeAt(len - 2) !== ZERO);
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
