/** UTF-8 helpers shared by labels, line and structured metadata. */

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function utf8Length(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/**
 * Text that cannot be valid UTF-8 (a lone UTF-16 surrogate) or that holds NUL bytes: a real API
 * server never sends it (Go's JSON encoder writes U+FFFD instead), so it marks binary garbage.
 */
export function isBinaryText(text: string): boolean {
  return text.includes('\u0000') || LONE_SURROGATE.test(text);
}

/**
 * Loki's `| logfmt` and `| json` drop any value that contains U+FFFD (Prometheus rejects it), and
 * some query paths fail on labels with it; '?' keeps such a value readable and extractable.
 */
export function withoutReplacementChar(text: string): string {
  return text.includes('\uFFFD') ? text.replaceAll('\uFFFD', '?') : text;
}

/**
 * `text` if it fits in `maxBytes` of UTF-8, else its longest prefix that leaves room for the
 * marker, cut on a code point boundary, followed by the marker.
 */
export function cutUtf8(text: string, maxBytes: number, marker: string): string {
  // Fast path: even at 3 bytes per UTF-16 unit it fits.
  if (text.length * 3 <= maxBytes) return text;
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return text;
  let end = Math.max(0, maxBytes - utf8Length(marker));
  // Step back over continuation bytes (10xxxxxx) so no code point is split.
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString('utf8') + marker;
}
