/**
 * Parsers for the textual forms an option takes on the command line, in the environment or in the
 * YAML file. Each returns the parsed value or throws a `ValueError` saying what was expected; the
 * caller adds the key and the value to make a one-line `ConfigError`.
 */

/** What a value should have looked like, e.g. "a duration like 30s". */
export class ValueError extends Error {
  constructor(readonly expected: string) {
    super(`expected ${expected}`);
    this.name = 'ValueError';
  }
}

const DURATION_UNITS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** `500ms`, `30s`, `5m`, `2h`, `6d`, or a combination such as `1h30m`; returns milliseconds. */
export function parseDuration(text: string): number {
  const trimmed = text.trim();
  const expected = 'a duration like 500ms, 30s, 5m, 2h or 6d';
  if (!/^(\d+(\.\d+)?(ms|s|m|h|d))+$/.test(trimmed)) throw new ValueError(expected);
  let total = 0;
  for (const match of trimmed.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)) {
    const unit = DURATION_UNITS[match[2] ?? ''];
    if (unit === undefined) throw new ValueError(expected);
    total += Number(match[1]) * unit;
  }
  return Math.round(total);
}

/** Shortest readable form of a bound for messages: 1000 → "1s", 100 → "100ms". */
export function formatMs(ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

const BYTE_UNITS: Readonly<Record<string, number>> = {
  '': 1,
  b: 1,
  k: 1000,
  kb: 1000,
  kib: 1024,
  m: 1000 ** 2,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  g: 1000 ** 3,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
};

/** `1048576`, `512KiB`, `1MiB`, `10MB`; returns bytes. */
export function parseByteSize(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([a-zA-Z]*)$/.exec(text.trim());
  const unit = match ? BYTE_UNITS[(match[2] ?? '').toLowerCase()] : undefined;
  if (!match || unit === undefined) throw new ValueError('a byte size like 1048576, 512KiB or 1MiB');
  return Math.round(Number(match[1]) * unit);
}

/** A whole number ≥ `min`. */
export function parseInteger(text: string, min: number): number {
  const trimmed = text.trim();
  if (!/^\d+$/.test(trimmed) || Number(trimmed) < min || !Number.isSafeInteger(Number(trimmed))) {
    throw new ValueError(`a whole number ≥ ${min}`);
  }
  return Number(trimmed);
}

/** `true`/`false` (also `1`/`0`, `yes`/`no`, `on`/`off`). */
export function parseBoolean(text: string): boolean {
  const lower = text.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(lower)) return true;
  if (['false', '0', 'no', 'off'].includes(lower)) return false;
  throw new ValueError('true or false');
}

/** `a,b , c` → `['a', 'b', 'c']`; empty items are left out, so `""` is the empty list. */
export function parseList(text: string): string[] {
  return text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/** `k=v,k2=v2` → `{ k: 'v', k2: 'v2' }`. Values may contain `=`; keys may not repeat. */
export function parseKeyValues(text: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const item of parseList(text)) {
    const eq = item.indexOf('=');
    const key = eq > 0 ? item.slice(0, eq).trim() : '';
    if (key === '') throw new ValueError('comma-separated key=value pairs');
    if (key in result) throw new ValueError(`comma-separated key=value pairs with distinct keys (${key} repeats)`);
    result[key] = item.slice(eq + 1).trim();
  }
  return result;
}

/** An HTTP header name (RFC 9110 token). */
export const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export interface NamespacedName {
  readonly namespace: string;
  readonly name: string;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/** `NAMESPACE/NAME` with Kubernetes naming rules. */
export function parseNamespacedName(text: string): NamespacedName {
  const parts = text.trim().split('/');
  const [namespace, name] = parts;
  if (
    parts.length !== 2 ||
    namespace === undefined ||
    name === undefined ||
    !DNS_LABEL.test(namespace) ||
    namespace.length > 63 ||
    !DNS_SUBDOMAIN.test(name) ||
    name.length > 253
  ) {
    throw new ValueError('NAMESPACE/NAME, e.g. monitoring/kube-event-shipper');
  }
  return { namespace, name };
}

/** What `--initial` means: ship nothing that exists already, everything, or what is younger than an age. */
export type InitialPolicy =
  | { readonly kind: 'none' }
  | { readonly kind: 'all' }
  | { readonly kind: 'maxAge'; readonly maxAgeMs: number };

export function parseInitial(text: string): InitialPolicy {
  const trimmed = text.trim();
  if (trimmed === 'none') return { kind: 'none' };
  if (trimmed === 'all') return { kind: 'all' };
  try {
    return { kind: 'maxAge', maxAgeMs: parseDuration(trimmed) };
  } catch {
    throw new ValueError('none, all, or a maximum age like 2h');
  }
}

export interface ListenAddress {
  /** Empty means every interface. */
  readonly host: string;
  readonly port: number;
}

/** `:8080`, `0.0.0.0:8080`, `127.0.0.1:0`, `[::1]:9000`. */
export function parseListenAddress(text: string): ListenAddress {
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]*):(\d{1,5})$/.exec(text.trim());
  const port = match ? Number(match[2]) : NaN;
  if (!match || port > 65535) throw new ValueError('HOST:PORT or :PORT, e.g. :8080');
  const host = (match[1] ?? '').replace(/^\[|\]$/g, '');
  return { host, port };
}
