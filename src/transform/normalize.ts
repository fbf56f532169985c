/**
 * Validation of one Kubernetes Event in either API shape (core/v1 or events.k8s.io/v1) into one
 * flat, typed record. Both shapes of the same event normalize to the same record, so the entry
 * does not depend on which API the source watched.
 */
import { ShipperError } from '../core/errors.js';
import { OCCURRENCE_TIME_FIELDS, type OccurrenceTimeSource } from '../core/occurrence-time.js';
import { parseRfc3339Ns } from './time.js';
import { isBinaryText, utf8Length, withoutReplacementChar } from './text.js';

/** Why an object was rejected. Bounded: log it as a field, count it as `malformed`. */
export const MALFORMED_REASONS = [
  'not_an_object',
  'not_an_event',
  'missing_metadata',
  'missing_involved_object',
  'missing_timestamp',
  'wrong_type',
  'invalid_timestamp',
  'binary_text',
  'message_too_large',
  'field_too_large',
] as const;
export type MalformedReason = (typeof MALFORMED_REASONS)[number];

export type NormalizeResult =
  | { readonly ok: true; readonly event: NormalizedEvent }
  | { readonly ok: false; readonly reason: MalformedReason; readonly detail: string };

export type EventApi = 'core/v1' | 'events.k8s.io/v1';

/** Which field gave the occurrence time (the first one present, in the order of OCCURRENCE_TIME_FIELDS). */
export type { OccurrenceTimeSource };

/** One event, validated. Strings are '' when the event leaves them out. */
export interface NormalizedEvent {
  readonly api: EventApi;
  readonly uid: string;
  readonly name: string;
  /** metadata.namespace of the Event itself (`default` for events about cluster-scoped objects). */
  readonly eventNamespace: string;
  readonly resourceVersion: string;
  readonly objectKind: string;
  /** '' for a cluster-scoped object. */
  readonly objectNamespace: string;
  readonly objectName: string;
  readonly objectUid: string;
  readonly objectFieldPath: string;
  readonly reason: string;
  readonly type: string;
  /** `message` (core/v1) or `note` (events.k8s.io/v1), full length. */
  readonly message: string;
  /** Cumulative: `series.count`, else `count`, else 1. */
  readonly count: number;
  /** `reportingController` / `reportingComponent`, else `source.component`. */
  readonly reporter: string;
  readonly reportingInstance: string;
  /** `source.host` (core/v1) or `deprecatedSource.host`. */
  readonly sourceHost: string;
  readonly action: string;
  /** `Kind/namespace/name` (or `Kind/name`) of the secondary object, '' when none. */
  readonly related: string;
  readonly firstSeenNs: bigint | undefined;
  readonly lastSeenNs: bigint | undefined;
  /** The occurrence time, in nanoseconds since the epoch, with the precision the event has. */
  readonly occurredAtNs: bigint;
  readonly occurredAtSource: OccurrenceTimeSource;
}

/** Bigger than anything etcd stores (1.5 MiB per object): such a message cannot be a real event. */
const MAX_RAW_MESSAGE_BYTES = 2 * 1024 * 1024;
/** Names, reasons and the like are short in Kubernetes; anything this long is garbage. */
const MAX_RAW_FIELD_BYTES = 64 * 1024;

type Json = Readonly<Record<string, unknown>>;

/** Thrown inside this module only; `normalizeEvent` turns it into a result. */
class Malformed extends ShipperError {
  readonly code = 'E_MALFORMED_EVENT';
  constructor(
    readonly reason: MalformedReason,
    readonly detail: string,
  ) {
    super(detail);
  }
}

export function normalizeEvent(raw: unknown): NormalizeResult {
  try {
    return { ok: true, event: read(raw) };
  } catch (e) {
    if (e instanceof Malformed) return { ok: false, reason: e.reason, detail: e.detail };
    // Only reachable through a bug here; still never throw at the caller.
    return { ok: false, reason: 'wrong_type', detail: `unexpected: ${String(e)}` };
  }
}

function read(raw: unknown): NormalizedEvent {
  if (!isObject(raw)) throw new Malformed('not_an_object', `expected an Event object, got ${describe(raw)}`);
  const kind = optionalString(raw, 'kind', '');
  if (kind !== '' && kind !== 'Event') throw new Malformed('not_an_event', `kind is "${cutForDetail(kind)}", not Event`);
  const apiVersion = optionalString(raw, 'apiVersion', '');
  const api: EventApi =
    apiVersion.startsWith('events.k8s.io/') || (apiVersion === '' && 'regarding' in raw && !('involvedObject' in raw))
      ? 'events.k8s.io/v1'
      : 'core/v1';
  const f = api === 'core/v1' ? CORE_FIELDS : EVENTS_FIELDS;

  const metadata = raw.metadata;
  if (!isObject(metadata)) throw new Malformed('missing_metadata', 'metadata is missing or not an object');
  const uid = optionalString(metadata, 'uid', 'metadata');
  if (uid === '') throw new Malformed('missing_metadata', 'metadata.uid is missing');
  const name = optionalString(metadata, 'name', 'metadata');
  if (name === '') throw new Malformed('missing_metadata', 'metadata.name is missing');

  const object = raw[f.object];
  if (!isObject(object)) throw new Malformed('missing_involved_object', `${f.object} is missing or not an object`);
  const source = optionalObject(raw, f.source, '');
  const series = optionalObject(raw, 'series', '');

  // Every time field, read (and checked) in the order of OCCURRENCE_TIME_FIELDS (written out:
  // this runs for every event, and a list of paths mapped per event cost more than reading them).
  const seriesLast = optionalTime(series, 'lastObservedTime', 'series');
  const last = optionalTime(raw, f.lastTimestamp, '');
  const eventTime = optionalTime(raw, 'eventTime', '');
  const first = optionalTime(raw, f.firstTimestamp, '');
  const created = optionalTime(metadata, 'creationTimestamp', 'metadata');
  const rank = seriesLast !== undefined ? 0 : last !== undefined ? 1 : eventTime !== undefined ? 2 : first !== undefined ? 3 : 4;
  const occurredAtNs = seriesLast ?? last ?? eventTime ?? first ?? created;
  if (occurredAtNs === undefined) {
    throw new Malformed('missing_timestamp', 'no series.lastObservedTime, lastTimestamp, eventTime, firstTimestamp or metadata.creationTimestamp');
  }
  const occurredAtSource = OCCURRENCE_TIME_FIELDS[rank].source;

  const seriesCount = optionalCount(series, 'count', 'series');
  const plainCount = optionalCount(raw, f.count, '');

  const message = optionalString(raw, f.message, '', MAX_RAW_MESSAGE_BYTES, 'message_too_large');

  return {
    api,
    uid,
    name,
    eventNamespace: optionalString(metadata, 'namespace', 'metadata'),
    resourceVersion: optionalString(metadata, 'resourceVersion', 'metadata'),
    objectKind: optionalString(object, 'kind', f.object),
    objectNamespace: optionalString(object, 'namespace', f.object),
    objectName: optionalString(object, 'name', f.object),
    objectUid: optionalString(object, 'uid', f.object),
    objectFieldPath: optionalString(object, 'fieldPath', f.object),
    reason: optionalString(raw, 'reason', ''),
    type: optionalString(raw, 'type', ''),
    message,
    count: seriesCount ?? plainCount ?? 1,
    reporter: optionalString(raw, f.reporter, '') || optionalString(source, 'component', f.source),
    reportingInstance: optionalString(raw, 'reportingInstance', ''),
    sourceHost: optionalString(source, 'host', f.source),
    action: optionalString(raw, 'action', ''),
    related: relatedRef(optionalObject(raw, 'related', '')),
    firstSeenNs: first ?? eventTime,
    lastSeenNs: seriesLast ?? last ?? eventTime ?? first,
    occurredAtNs,
    occurredAtSource,
  };
}

const CORE_FIELDS = {
  object: 'involvedObject',
  message: 'message',
  source: 'source',
  count: 'count',
  reporter: 'reportingComponent',
  lastTimestamp: OCCURRENCE_TIME_FIELDS[1].core[0],
  firstTimestamp: OCCURRENCE_TIME_FIELDS[3].core[0],
} as const;

const EVENTS_FIELDS = {
  object: 'regarding',
  message: 'note',
  source: 'deprecatedSource',
  count: 'deprecatedCount',
  reporter: 'reportingController',
  lastTimestamp: OCCURRENCE_TIME_FIELDS[1].events[0],
  firstTimestamp: OCCURRENCE_TIME_FIELDS[3].events[0],
} as const;

function relatedRef(ref: Json | undefined): string {
  if (ref === undefined) return '';
  const kind = optionalString(ref, 'kind', 'related');
  const namespace = optionalString(ref, 'namespace', 'related');
  const name = optionalString(ref, 'name', 'related');
  // The non-empty parts joined by '/'.
  let out = kind;
  if (namespace !== '') out = out === '' ? namespace : `${out}/${namespace}`;
  if (name !== '') out = out === '' ? name : `${out}/${name}`;
  return out;
}

/**
 * The field's path for an error detail: `key` inside `within` ('' for the top level). Built only
 * when there is an error: these readers run for every field of every event.
 */
function pathOf(within: string, key: string): string {
  return within === '' ? key : `${within}.${key}`;
}

function optionalString(
  from: Json | undefined,
  key: string,
  within: string,
  maxBytes = MAX_RAW_FIELD_BYTES,
  tooLarge: MalformedReason = 'field_too_large',
): string {
  const value = from?.[key];
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw new Malformed('wrong_type', `${pathOf(within, key)} is ${describe(value)}, not a string`);
  if (value.length * 3 > maxBytes && utf8Length(value) > maxBytes) {
    throw new Malformed(tooLarge, `${pathOf(within, key)} has ${utf8Length(value)} bytes, more than ${maxBytes}`);
  }
  // One scan for the common case (nothing to refuse or replace) instead of three.
  if (!SUSPECT_CHARS.test(value)) return value;
  if (isBinaryText(value)) throw new Malformed('binary_text', `${pathOf(within, key)} holds NUL bytes or invalid UTF-16`);
  return withoutReplacementChar(value);
}

/** NUL, any surrogate (paired or not) and U+FFFD: what `isBinaryText` and `withoutReplacementChar` look for, and more. */
// eslint-disable-next-line no-control-regex
const SUSPECT_CHARS = /[\u0000\uD800-\uDFFF\uFFFD]/;

function optionalObject(from: Json | undefined, key: string, within: string): Json | undefined {
  const value = from?.[key];
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) throw new Malformed('wrong_type', `${pathOf(within, key)} is ${describe(value)}, not an object`);
  return value;
}

function optionalTime(from: Json | undefined, key: string, within: string): bigint | undefined {
  const text = optionalString(from, key, within);
  if (text === '') return undefined;
  const ns = parseRfc3339Ns(text);
  if (ns === undefined) throw new Malformed('invalid_timestamp', `${pathOf(within, key)} "${cutForDetail(text)}" is not an RFC 3339 time`);
  return ns;
}

/** A positive count, or undefined when missing (0 means the same as missing). */
function optionalCount(from: Json | undefined, key: string, within: string): number | undefined {
  const value = from?.[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new Malformed('wrong_type', `${pathOf(within, key)} is ${describe(value)}, not a count`);
  }
  return value === 0 ? undefined : value;
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'number') return `the number ${value}`;
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function cutForDetail(text: string): string {
  return text.length > 64 ? `${text.slice(0, 64)}…` : text;
}
