/**
 * Loki 3's ingestion-time rules (default limits), applied to what the fake Loki received, in the
 * order it received it: per stream, an entry more than the out-of-order window older than the
 * newest entry already accepted is refused; so is one older than 7 days or more than 10 min ahead
 * (see ../shared/fixtures/loki-push/loki-refusals.json). Independent of the fake's own checks.
 */
import type { ReceivedPush } from '../fakes/loki-receiver.js';

const NS_PER_MS = 1_000_000n;
const HOUR_NS = 3_600_000n * NS_PER_MS;

export interface Refusal {
  readonly labels: string;
  readonly ts: bigint;
  readonly why: 'out_of_order' | 'too_old' | 'too_new';
}

export function refusedByLoki(pushes: readonly ReceivedPush[], nowMs: number, windowNs = HOUR_NS): Refusal[] {
  const newest = new Map<string, bigint>();
  const refused: Refusal[] = [];
  const now = BigInt(nowMs) * NS_PER_MS;
  for (const push of pushes) {
    if (typeof push.answer !== 'number' || push.answer < 200 || push.answer > 299) continue;
    for (const stream of push.streams) {
      for (const e of stream.entries) {
        const high = newest.get(stream.labels);
        if (e.timestampNs < now - 168n * HOUR_NS) refused.push({ labels: stream.labels, ts: e.timestampNs, why: 'too_old' });
        else if (e.timestampNs > now + 10n * 60_000n * NS_PER_MS) refused.push({ labels: stream.labels, ts: e.timestampNs, why: 'too_new' });
        else if (high !== undefined && e.timestampNs < high - windowNs) refused.push({ labels: stream.labels, ts: e.timestampNs, why: 'out_of_order' });
        else if (high === undefined || e.timestampNs > high) newest.set(stream.labels, e.timestampNs);
      }
    }
  }
  return refused;
}
