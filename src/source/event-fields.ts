/**
 * The few fields the source and the filters read from a raw Event of either API shape, without
 * the transform: namespace, type, reason, involved kind, resourceVersion and occurrence time.
 */
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

/** When the occurrence happened, in ms since the epoch: newest of the times the event carries. */
export function occurrenceTimeMs(e: RawEvent): number | undefined {
  const series = obj(e['series']);
  const candidates = [
    series?.['lastObservedTime'],
    e['lastTimestamp'],
    e['deprecatedLastTimestamp'],
    e['eventTime'],
    e['firstTimestamp'],
    e['deprecatedFirstTimestamp'],
    obj(e['metadata'])?.['creationTimestamp'],
  ];
  for (const c of candidates) {
    const s = str(c);
    if (s === undefined) continue;
    const t = Date.parse(s);
    if (!Number.isNaN(t)) return t;
  }
  return undefined;
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
