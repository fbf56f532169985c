/** Why its own module: turning a raw Event into an Entry (and naming it in logs) is apart from shipping it. */
import { keyOf } from '../checkpoint/id-hash.js';
import type { ShippedCounts } from '../checkpoint/shipped-counts.js';
import type { Entry } from '../core/entry.js';
import type { SourceItem } from '../source/index.js';
import type { Transformer } from '../transform/index.js';

/** Names an event in a log record. */
export function eventRef(object: SourceItem['object']): { namespace: unknown; name: unknown; resourceVersion: unknown } {
  const meta = object['metadata'] as { namespace?: unknown; name?: unknown; resourceVersion?: unknown } | undefined;
  return { namespace: meta?.namespace, name: meta?.name, resourceVersion: meta?.resourceVersion };
}

/**
 * normalize + toEntry, with `occurrences` = the rise of the event's count over what `counts` says
 * was last shipped (read only; the caller raises it once it ships). A throw (a transform bug on odd
 * input) counts as malformed rather than stopping the pipeline.
 */
export function toEntry(
  transformer: Transformer,
  raw: unknown,
  counts: ShippedCounts,
): { ok: true; entry: Entry; uid: string; count: number; uidKey: string } | { ok: false; reason: string; detail: string } {
  try {
    const normalized = transformer.normalize(raw);
    if (!normalized.ok) return normalized;
    const { uid, count } = normalized.event;
    const uidKey = keyOf(uid);
    return { ok: true, entry: transformer.toEntry(normalized.event, counts.occurrencesOf(uid, count, uidKey)), uid, count, uidKey };
  } catch (err) {
    return { ok: false, reason: 'transform_error', detail: err instanceof Error ? err.message : String(err) };
  }
}
