/**
 * Event objects for the fake API server: builders in either API shape and the conversion between
 * the core/v1 and events.k8s.io/v1 views of one stored Event (as the real API server converts).
 */

export type EventApi = 'core/v1' | 'events.k8s.io/v1';

/** A JSON object as the API server sends it. */
export type KubeObject = Record<string, unknown>;

export function apiOf(obj: KubeObject): EventApi {
  return obj['apiVersion'] === 'events.k8s.io/v1' ? 'events.k8s.io/v1' : 'core/v1';
}

export function metadataOf(obj: KubeObject): Record<string, unknown> {
  const m = obj['metadata'];
  if (typeof m === 'object' && m !== null) return m as Record<string, unknown>;
  const fresh: Record<string, unknown> = {};
  obj['metadata'] = fresh;
  return fresh;
}

function pick(from: KubeObject, pairs: readonly (readonly [string, string])[]): KubeObject {
  const out: KubeObject = {};
  for (const [src, dst] of pairs) {
    const v = from[src];
    if (v !== undefined) out[dst] = v;
  }
  return out;
}

const CORE_TO_NEW = [
  ['eventTime', 'eventTime'],
  ['series', 'series'],
  ['reportingComponent', 'reportingController'],
  ['reportingInstance', 'reportingInstance'],
  ['action', 'action'],
  ['reason', 'reason'],
  ['involvedObject', 'regarding'],
  ['related', 'related'],
  ['message', 'note'],
  ['type', 'type'],
  ['source', 'deprecatedSource'],
  ['firstTimestamp', 'deprecatedFirstTimestamp'],
  ['lastTimestamp', 'deprecatedLastTimestamp'],
  ['count', 'deprecatedCount'],
] as const;

/** The same stored Event seen through the other API group. */
export function convertEvent(obj: KubeObject, to: EventApi): KubeObject {
  if (apiOf(obj) === to) return obj;
  const metadata = obj['metadata'];
  if (to === 'events.k8s.io/v1') {
    return { kind: 'Event', apiVersion: 'events.k8s.io/v1', metadata, ...pick(obj, CORE_TO_NEW) };
  }
  const back = CORE_TO_NEW.map(([a, b]) => [b, a] as const);
  return { kind: 'Event', apiVersion: 'v1', metadata, ...pick(obj, back) };
}

export interface EventSpec {
  readonly namespace?: string;
  readonly name?: string;
  readonly reason?: string;
  readonly type?: 'Normal' | 'Warning';
  readonly kind?: string;
  readonly objectName?: string;
  /** Involved object namespace; `null` for a cluster-scoped object. Defaults to the event's namespace. */
  readonly objectNamespace?: string | null;
  readonly message?: string;
  /** ISO time of the occurrence. */
  readonly time?: string;
  readonly component?: string;
}

let uidCounter = 0;
function nextUid(): string {
  uidCounter += 1;
  const hex = uidCounter.toString(16).padStart(12, '0');
  return `00000000-0000-4000-8000-${hex}`;
}

/** A core/v1 Event as an old-style recorder writes it (count, first/last timestamp, source). */
export function coreEvent(spec: EventSpec = {}): KubeObject {
  const namespace = spec.namespace ?? 'default';
  const objectName = spec.objectName ?? 'web-0';
  const name = spec.name ?? `${objectName}.${nextUid().slice(-12)}`;
  const time = spec.time ?? '2026-11-26T10:00:00Z';
  const involved: KubeObject = { kind: spec.kind ?? 'Pod', name: objectName, uid: nextUid(), apiVersion: 'v1' };
  const objectNamespace = spec.objectNamespace === undefined ? namespace : spec.objectNamespace;
  if (objectNamespace !== null) involved['namespace'] = objectNamespace;
  return {
    kind: 'Event',
    apiVersion: 'v1',
    metadata: { name, namespace, uid: nextUid(), creationTimestamp: time },
    involvedObject: involved,
    reason: spec.reason ?? 'BackOff',
    message: spec.message ?? 'Back-off restarting failed container',
    source: { component: spec.component ?? 'kubelet', host: 'node-1' },
    firstTimestamp: time,
    lastTimestamp: time,
    count: 1,
    type: spec.type ?? 'Normal',
    eventTime: null,
    reportingComponent: '',
    reportingInstance: '',
  };
}

/** An events.k8s.io/v1 Event as a new-style recorder writes it (eventTime with microseconds, reportingController). */
export function newEvent(spec: EventSpec = {}): KubeObject {
  const namespace = spec.namespace ?? 'default';
  const objectName = spec.objectName ?? 'web-0';
  const name = spec.name ?? `${objectName}.${nextUid().slice(-12)}`;
  const time = spec.time ?? '2026-11-26T10:00:00.123456Z';
  const regarding: KubeObject = { kind: spec.kind ?? 'Pod', name: objectName, uid: nextUid(), apiVersion: 'v1' };
  const objectNamespace = spec.objectNamespace === undefined ? namespace : spec.objectNamespace;
  if (objectNamespace !== null) regarding['namespace'] = objectNamespace;
  return {
    kind: 'Event',
    apiVersion: 'events.k8s.io/v1',
    metadata: { name, namespace, uid: nextUid(), creationTimestamp: time.replace(/\.\d+Z$/, 'Z') },
    eventTime: time,
    reportingController: spec.component ?? 'default-scheduler',
    reportingInstance: 'default-scheduler-1',
    action: 'Scheduling',
    reason: spec.reason ?? 'FailedScheduling',
    regarding,
    note: spec.message ?? '0/3 nodes are available',
    type: spec.type ?? 'Warning',
  };
}

/** Reads a dotted field path (`involvedObject.kind`) of an object; undefined when absent. */
export function fieldValue(obj: KubeObject, path: string): unknown {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}
