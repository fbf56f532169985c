/** The log line: every field a user needs, in a fixed key order, as logfmt or JSON. */
import type { NormalizedEvent } from './normalize.js';
import { encodeLogfmtValue, type LineField } from './logfmt.js';
import { LOKI_MAX_LINE_BYTES, MAX_LABEL_VALUE_BYTES, type LineFormat } from './options.js';
import { cutUtf8, utf8Length } from './text.js';
import { formatRfc3339Ns } from './time.js';
import { VALUE_CUT_MARKER } from './labels.js';

/** Every key a line can have, in line order (empty ones are left out). */
export const LINE_KEYS = [
  'kind', 'namespace', 'name', 'reason', 'type', 'count', 'msg', 'first_seen', 'last_seen', 'source',
  'instance', 'host', 'action', 'related', 'event', 'event_uid', 'object_uid', 'original_ts',
] as const;
export type LineKey = (typeof LINE_KEYS)[number];

/** Appended to a message that was cut; says how long the original was. */
function messageCutMarker(originalBytes: number): string {
  return ` …[cut, ${originalBytes} bytes]`;
}

export function cutMessage(message: string, maxBytes: number): string {
  if (message.length * 3 <= maxBytes) return message;
  const bytes = utf8Length(message);
  return bytes <= maxBytes ? message : cutUtf8(message, maxBytes, messageCutMarker(bytes));
}

/** The fields of the line in order (the JSON line; the logfmt line holds the same); `originalNs` only when the entry time was clamped. */
export function lineFields(event: NormalizedEvent, message: string, originalNs: bigint | undefined): LineField[] {
  const fields: LineField[] = [];
  const put = (key: LineKey, value: string): void => {
    if (value !== '') fields.push([key, cutUtf8(value, MAX_LABEL_VALUE_BYTES, VALUE_CUT_MARKER)]);
  };
  put('kind', event.objectKind);
  put('namespace', event.objectNamespace);
  put('name', event.objectName);
  put('reason', event.reason);
  put('type', event.type);
  fields.push(['count', event.count]);
  if (message !== '') fields.push(['msg', message]);
  put('first_seen', event.firstSeenNs === undefined ? '' : formatRfc3339Ns(event.firstSeenNs));
  put('last_seen', event.lastSeenNs === undefined ? '' : formatRfc3339Ns(event.lastSeenNs));
  put('source', event.reporter);
  put('instance', event.reportingInstance);
  put('host', event.sourceHost);
  put('action', event.action);
  put('related', event.related);
  put('event', event.name);
  put('event_uid', event.uid);
  put('object_uid', event.objectUid);
  if (originalNs !== undefined) put('original_ts', formatRfc3339Ns(originalNs));
  return fields;
}

/**
 * `line` (made without an original time) with `original_ts` added: the same bytes `buildLine`
 * makes with `originalNs`, since `original_ts` is the last key of a line.
 */
export function withOriginalTime(line: string, format: LineFormat, originalNs: bigint): string {
  const time = formatRfc3339Ns(originalNs);
  if (format === 'logfmt') return `${line} original_ts=${time}`;
  return `${line.slice(0, -1)},${JSON.stringify('original_ts')}:${JSON.stringify(time)}}`;
}

function formatLine(event: NormalizedEvent, message: string, originalNs: bigint | undefined, format: LineFormat): string {
  if (format === 'logfmt') return logfmtLine(event, message, originalNs);
  const record: Record<string, string | number> = {};
  for (const [key, value] of lineFields(event, message, originalNs)) record[key] = value;
  return JSON.stringify(record);
}

/**
 * `encodeLogfmt(lineFields(event, message, originalNs))`, written straight into the line: no list
 * of fields per event (this runs for every event; the list and its pairs were most of the cost).
 */
function logfmtLine(event: NormalizedEvent, message: string, originalNs: bigint | undefined): string {
  let line = withField('', 'kind=', event.objectKind);
  line = withField(line, 'namespace=', event.objectNamespace);
  line = withField(line, 'name=', event.objectName);
  line = withField(line, 'reason=', event.reason);
  line = withField(line, 'type=', event.type);
  line = line === '' ? `count=${event.count}` : `${line} count=${event.count}`;
  if (message !== '') line = `${line} msg=${encodeLogfmtValue(message)}`;
  if (event.firstSeenNs !== undefined) line = withField(line, 'first_seen=', formatRfc3339Ns(event.firstSeenNs));
  if (event.lastSeenNs !== undefined) line = withField(line, 'last_seen=', formatRfc3339Ns(event.lastSeenNs));
  line = withField(line, 'source=', event.reporter);
  line = withField(line, 'instance=', event.reportingInstance);
  line = withField(line, 'host=', event.sourceHost);
  line = withField(line, 'action=', event.action);
  line = withField(line, 'related=', event.related);
  line = withField(line, 'event=', event.name);
  line = withField(line, 'event_uid=', event.uid);
  line = withField(line, 'object_uid=', event.objectUid);
  if (originalNs !== undefined) line = withField(line, 'original_ts=', formatRfc3339Ns(originalNs));
  return line;
}

/** `line` with `keyIs` and `value` (cut like every field but the message) appended; as it was when `value` is empty. */
function withField(line: string, keyIs: string, value: string): string {
  if (value === '') return line;
  const encoded = encodeLogfmtValue(cutUtf8(value, MAX_LABEL_VALUE_BYTES, VALUE_CUT_MARKER));
  return line === '' ? keyIs + encoded : `${line} ${keyIs}${encoded}`;
}

/**
 * The line with the message cut to `maxMessageBytes`; if escaping still pushes the line past
 * Loki's limit (a message full of control characters), the message budget halves until it fits.
 */
export function buildLine(
  event: NormalizedEvent,
  format: LineFormat,
  maxMessageBytes: number,
  originalNs: bigint | undefined,
): string {
  let budget = maxMessageBytes;
  for (;;) {
    const line = formatLine(event, cutMessage(event.message, budget), originalNs, format);
    if (line.length <= LOKI_MAX_LINE_BYTES / 3 || utf8Length(line) <= LOKI_MAX_LINE_BYTES || budget < 64) return line;
    budget = Math.floor(budget / 2);
  }
}
