/** Stream labels and structured metadata: low-cardinality names, values valid for Loki. */
import type { LabelMap } from '../core/entry.js';
import type { NormalizedEvent } from './normalize.js';
import { MAX_LABEL_VALUE_BYTES, type EventLabel, type TransformOptions } from './options.js';
import { cutUtf8 } from './text.js';

/** The `namespace` label of events about cluster-scoped objects (nodes, PVs, CRDs without namespace). */
export const CLUSTER_SCOPED_NAMESPACE = '_cluster';
/** Loki drops labels with empty values; an event without a reason still gets one. */
export const EMPTY_LABEL_VALUE = '_none';
/** Ends a label or metadata value that was cut to MAX_LABEL_VALUE_BYTES. */
export const VALUE_CUT_MARKER = '…';

/** Names of the structured metadata, in the order they are sent. */
export const STRUCTURED_METADATA_NAMES = ['object_name', 'object_uid', 'node', 'event_uid', 'level', 'occurrences'] as const;

/** `level` of an event without a type. */
export const UNKNOWN_LEVEL = 'unknown';

/**
 * The `level` Grafana's Explore and Logs Drilldown colour and filter by: `info` for Normal, `warn`
 * for Warning. Kubernetes knows only those two; any other type is passed on lower-cased (Grafana
 * reads `error`, `debug`… as levels too), and an event without a type is `unknown`.
 */
export function levelOf(type: string): string {
  switch (type) {
    case 'Normal':
      return 'info';
    case 'Warning':
      return 'warn';
    case '':
      return UNKNOWN_LEVEL;
    default:
      return cutUtf8(type.toLowerCase(), MAX_LABEL_VALUE_BYTES, VALUE_CUT_MARKER);
  }
}

function labelValue(value: string): string {
  return value === '' ? EMPTY_LABEL_VALUE : cutUtf8(value, MAX_LABEL_VALUE_BYTES, VALUE_CUT_MARKER);
}

function eventLabelValue(event: NormalizedEvent, label: EventLabel): string {
  switch (label) {
    case 'namespace':
      return event.objectNamespace === '' ? CLUSTER_SCOPED_NAMESPACE : labelValue(event.objectNamespace);
    case 'reason':
      return labelValue(event.reason);
    case 'type':
      return labelValue(event.type);
    case 'kind':
      return labelValue(event.objectKind);
    case 'source':
      return labelValue(event.reporter);
  }
}

/** Label sets remembered per builder; label sets are few (streams), so this is rarely reached. */
const INTERNED_LABEL_SETS = 4096;

/** A trie over label values, in name order; a full path leads to the label set. */
type ValueTrie = Map<string, ValueTrie | LabelMap>;

/**
 * Builds labels for one options set; keys come out sorted so equal maps are equal byte for byte.
 * Equal label sets come out as the same (shared, never modified) object, so that what is derived
 * from a stream's labels per entry (its Loki label string, its stream key) is made once per stream
 * and then found by identity.
 */
export function labelBuilder(options: TransformOptions): (event: NormalizedEvent) => LabelMap {
  const names = [...options.labels, ...Object.keys(options.staticLabels)].sort();
  // Per name, in order: the event field it comes from, or else its static value.
  const eventLabels = new Set<string>(options.labels);
  const fromEvent = names.map((name) => (eventLabels.has(name) ? (name as EventLabel) : undefined));
  const staticValues = names.map((name) => options.staticLabels[name] ?? '');
  const valueAt = (event: NormalizedEvent, i: number): string => {
    const label = fromEvent[i];
    return label !== undefined ? eventLabelValue(event, label) : staticValues[i]!;
  };
  let root: ValueTrie = new Map();
  let interned = 0;
  return (event) => {
    // Walk the trie by value; only a label set not seen before is built (and remembered).
    let node = root;
    for (let i = 0; i < names.length; i++) {
      const value = valueAt(event, i);
      const next = node.get(value);
      if (next === undefined) return remember(event, i, node);
      if (i === names.length - 1) return next as LabelMap;
      node = next as ValueTrie;
    }
    return remember(event, 0, root); // no labels at all
  };

  function remember(event: NormalizedEvent, from: number, at: ValueTrie): LabelMap {
    const labels: Record<string, string> = {};
    for (let i = 0; i < names.length; i++) labels[names[i]!] = valueAt(event, i);
    if (interned >= INTERNED_LABEL_SETS) {
      root = new Map();
      interned = 0;
      from = 0;
      at = root;
    }
    interned += 1;
    let node = at;
    for (let i = from; i < names.length - 1; i++) {
      const next: ValueTrie = new Map();
      node.set(labels[names[i]!]!, next);
      node = next;
    }
    if (names.length > 0) node.set(labels[names[names.length - 1]!]!, labels);
    return labels;
  }
}

/** The node an event happened on: the reporting host, or the object itself when it is a Node. */
function nodeOf(event: NormalizedEvent): string {
  if (event.sourceHost !== '') return event.sourceHost;
  return event.objectKind === 'Node' ? event.objectName : '';
}

/**
 * The structured metadata of one entry. `occurrences` is how many occurrences the entry adds (the
 * pipeline computes it from the counts it already shipped; see `OccurrenceCounts`): a whole number,
 * 0 or more, always present.
 */
export function structuredMetadataOf(event: NormalizedEvent, occurrences: number): LabelMap {
  if (!Number.isSafeInteger(occurrences) || occurrences < 0) throw new RangeError(`occurrences must be a whole number >= 0, got ${occurrences}`);
  // Set in the order of STRUCTURED_METADATA_NAMES, each only when not empty (written out: this
  // runs for every event).
  const metadata: Record<string, string> = {};
  if (event.objectName !== '') metadata['object_name'] = metadataValue(event.objectName);
  if (event.objectUid !== '') metadata['object_uid'] = metadataValue(event.objectUid);
  const node = nodeOf(event);
  if (node !== '') metadata['node'] = metadataValue(node);
  if (event.uid !== '') metadata['event_uid'] = metadataValue(event.uid);
  metadata['level'] = metadataValue(levelOf(event.type));
  metadata['occurrences'] = String(occurrences);
  return metadata;
}

function metadataValue(value: string): string {
  return cutUtf8(value, MAX_LABEL_VALUE_BYTES, VALUE_CUT_MARKER);
}
