/**
 * logfmt encoding that Loki's `| logfmt` parser (a fork of go-logfmt's decoder) reads back
 * exactly: a value is bare unless it holds a byte <= ' ', '=' or '"'; a quoted value escapes
 * '\\', '"' and control characters the way Loki's unquote understands.
 */

export type LineField = readonly [key: string, value: string | number];

// Control characters are exactly what this pattern is about.
// eslint-disable-next-line no-control-regex
const TO_ESCAPE = /[\\"\u0000-\u001f]/g;
const ESCAPES: Readonly<Record<string, string>> = { '\\': '\\\\', '"': '\\"', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

export function encodeLogfmtValue(value: string): string {
  if (value === '') return '""';
  // One pass over the value instead of two regular expressions (this runs for every field of
  // every line): quoted when it holds a byte <= ' ', '=' or '"'; escaped when it also holds one of
  // TO_ESCAPE.
  let quote = false;
  let escape = false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c > 0x22 && c !== 0x3d && c !== 0x5c) continue;
    if (c <= 0x20 || c === 0x22 || c === 0x3d) quote = true;
    if (c < 0x20 || c === 0x22 || c === 0x5c) escape = true;
    if (quote && escape) break;
  }
  if (!quote) return value;
  return escape ? `"${value.replace(TO_ESCAPE, escapeChar)}"` : `"${value}"`;
}

/** Keys must be bare words (our keys are fixed snake_case names). */
export function encodeLogfmt(fields: readonly LineField[]): string {
  let line = '';
  for (const [key, value] of fields) {
    if (line !== '') line += ' ';
    line += `${key}=${typeof value === 'number' ? String(value) : encodeLogfmtValue(value)}`;
  }
  return line;
}

function escapeChar(c: string): string {
  return ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
}
