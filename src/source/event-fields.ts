/**
 * The few fields the source and the filters read from a raw Event of either API shape, without
 * the transform: namespace, type, reason, involved kind, resourceVersion and occurrence time.
 */
import { OCCURRENCE_TIME_FIELDS } from '../core/occurrence-time.js';

export type RawEvent = Record<string, unknown>;

function obj(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

export function isRawEvent(v: unknown): v is RawEvent {
  return obj(v) !== undefined;
}

export function resourceVersionOf(e: RawEvent): string | undefined {
  return str(obj(e['metadata'])?.['resourceVersion']);
}

export function namespaceOf(e: RawEvent): string | undefined {
  return str(obj(e['metadata'])?.['namespace']);
}

export function typeOf(e: RawEvent): string | undefined {
  return str(e['type']);
}

export function reasonOf(e: RawEvent): string | undefined {
  return str(e['reason']);
}

export function kindOf(e: RawEvent): string | undefined {
  return str(obj(e['involvedObject'])?.['kind']) ?? str(obj(e['regarding'])?.['kind']);
}

/** The value at a field path of OCCURRENCE_TIME_FIELDS (one or two levels). */
function at(e: RawEvent, path: readonly string[]): unknown {
  return path.length === 1 ? e[path[0]!] : obj(e[path[0]!])?.[path[1]!];
}

/**
 * When the occurrence happened, in ms since the epoch: the first time present, in the order the
 * transform uses (core/occurrence-time.ts), each rank under either API shape's name.
 */
export function occurrenceTimeMs(e: RawEvent): number | undefined {
  for (const field of OCCURRENCE_TIME_FIELDS) {
    const t = timeAt(e, field.core) ?? (field.events[0] === field.core[0] ? undefined : timeAt(e, field.events));
    if (t !== undefined) return t;
  }
  return undefined;
}

function timeAt(e: RawEvent, path: readonly string[]): number | undefined {
  const s = str(at(e, path));
  if (s === undefined) return undefined;
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : t;
}

/**
 * Compares two resourceVersions when both are decimal integers; else undefined (incomparable).
 * The API contract calls them opaque strings, but every kube-apiserver backed by etcd serves etcd
 * revisions (one cluster-wide, increasing counter), which is what lets a relist tell what changed
 * after a position. A server that serves something else (an aggregated or non-etcd API) falls
 * back to the time look-back.
 */
export function compareResourceVersions(a: string, b: string): number | undefined {
  if (!/^\d+$/.test(a) || !/^\d+$/.test(b)) return undefined;
  const x = BigInt(a);
  const y = BigInt(b);
  return x === y ? 0 : x < y ? -1 : 1;
}
