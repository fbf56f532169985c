/** From a raw Kubernetes Event to a Loki Entry. */
import type { Entry, RetimeReason } from '../core/entry.js';
import { occurrenceIdOf } from './identity.js';
import { labelBuilder, structuredMetadataOf } from './labels.js';
import { buildLine, withOriginalTime } from './line.js';
import { normalizeEvent, type NormalizedEvent, type NormalizeResult } from './normalize.js';
import { resolveTransformOptions, type TransformOptions } from './options.js';

export interface Transformer {
  /** Validates either API shape (core/v1 or events.k8s.io/v1); never throws. */
  normalize(raw: unknown): NormalizeResult;
  /**
   * Pure: same event, same `occurrences` (and same `now` window) → byte-identical Entry.
   * `occurrences` is how many occurrences this entry adds, known only to whoever keeps the counts
   * already shipped (the pipeline); it goes into structured metadata, never into the line. Left
   * out, it is the event's whole count, as for an event seen for the first time.
   */
  toEntry(event: NormalizedEvent, occurrences?: number): Entry;
  /**
   * The entry moved to `timestampNs`, its true time kept in the line as `original_ts` (byte-identical
   * to what `toEntry` makes of a clamped event). An entry already moved keeps its line and reason.
   */
  retime(entry: Entry, timestampNs: bigint): Entry;
}

export interface TransformDeps {
  /** Milliseconds since the epoch; only used to keep entry times inside what Loki accepts. */
  readonly now: () => number;
}

const HOUR_NS = 3_600_000_000_000n;
const MINUTE_NS = 60_000_000_000n;
const NS_PER_MS = 1_000_000n;
/** Loki rejects entries more than `creation_grace_period` (10 min by default) ahead of its clock. */
export const FUTURE_GRACE_MS = 5 * 60_000;

/**
 * The oldest time an entry may carry: `now - acceptWindow`, rounded up to a whole hour so that a
 * clamped entry re-sent within the same hour is byte-identical.
 */
export function clampEdgeNs(nowMs: number, acceptWindowMs: number): bigint {
  const edge = BigInt(Math.floor(nowMs - acceptWindowMs)) * NS_PER_MS;
  const rest = ((edge % HOUR_NS) + HOUR_NS) % HOUR_NS;
  return rest === 0n ? edge : edge - rest + HOUR_NS;
}

/**
 * The newest time an entry may carry: `now + FUTURE_GRACE_MS`, rounded down to the minute. Only a
 * reporter with a clock far ahead produces such times; Loki would reject them with a 400.
 */
export function futureEdgeNs(nowMs: number): bigint {
  const edge = BigInt(Math.floor(nowMs + FUTURE_GRACE_MS)) * NS_PER_MS;
  return edge - (((edge % MINUTE_NS) + MINUTE_NS) % MINUTE_NS);
}

interface Edges {
  readonly nowMs: number;
  readonly oldest: bigint;
  readonly newest: bigint;
}

/** Both edges for `nowMs`, made again only when the clock has moved (a burst shares one millisecond). */
function edgesAt(last: Edges | undefined, nowMs: number, acceptWindowMs: number): Edges {
  if (last !== undefined && last.nowMs === nowMs) return last;
  return { nowMs, oldest: clampEdgeNs(nowMs, acceptWindowMs), newest: futureEdgeNs(nowMs) };
}

/** Validates `options` (throws `ConfigError`, like `resolveTransformOptions`). */
export function createTransformer(options: TransformOptions, deps: TransformDeps): Transformer {
  const resolved = resolveTransformOptions(options);
  const labelsOf = labelBuilder(resolved);
  let edges: Edges | undefined;
  return {
    normalize: normalizeEvent,
    toEntry(event, occurrences = event.count) {
      edges = edgesAt(edges, deps.now(), resolved.acceptWindowMs);
      // The entry time: the occurrence time, moved inside [clamp edge, future edge] when outside.
      const at = event.occurredAtNs;
      const retimed: RetimeReason | undefined = at < edges.oldest ? 'too_old' : at > edges.newest ? 'too_new' : undefined;
      const labels = labelsOf(event);
      const line = buildLine(event, resolved.lineFormat, resolved.maxMessageBytes, retimed !== undefined ? at : undefined);
      const structuredMetadata = resolved.structuredMetadata ? structuredMetadataOf(event, occurrences) : {};
      const occurrenceId = occurrenceIdOf(event);
      if (retimed === undefined) return { labels, timestampNs: at, line, structuredMetadata, occurrenceId };
      return { labels, timestampNs: retimed === 'too_old' ? edges.oldest : edges.newest, line, structuredMetadata, occurrenceId, retimed };
    },
    retime(entry, timestampNs) {
      if (timestampNs === entry.timestampNs) return entry;
      if (entry.retimed !== undefined) return { ...entry, timestampNs };
      return { ...entry, timestampNs, line: withOriginalTime(entry.line, resolved.lineFormat, entry.timestampNs), retimed: 'out_of_order' };
    },
  };
}
