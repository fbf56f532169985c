/**
 * logfmt encoding that Loki's `| logfmt` parser (a fork of go-logfmt's decoder) reads back
 * exactly: a value is bare unless it holds a byte <= ' ', '=' or '"'; a quoted value escapes
 * '\\', '"' and control characters the way Loki's unquote understands.
 */

export type LineField = readonly [key: string, value: string | number];

// Control characters are exactly what these two patterns are about.
// eslint-disable-next-line no-control-regex
const NEEDS_QUOTES = /[\u0000-\u0020="]/;
// eslint-disable-next-line no-control-regex
const TO_ESCAPE = /[\\"\u0000-\u001f]/g;
const ESCAPES: Readonly<Record<string, string>> = { '\\': '\\\\', '"': '\\"', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

export function encodeLogfmtValue(value: string): string {
  if (value === '') return '""';
  if (!NEEDS_QUOTES.test(value)) return value;
  return `"${value.replace(TO_ESCAPE, escapeChar)}"`;
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
