/**
 * Pushes one batch through the (retrying) client and turns Loki's final answer into an outcome for
 * every entry: delivered; a 413 split into halves until the parts pass; a 400 dropping exactly the
 * entries it names; retries run out; or the drain deadline passed.
 */
import type { DeliveryOutcome, LokiRefusalReason } from '../../core/entry.js';
import type { SinkDeps } from '../deps.js';
import type { Batch, HeldEntry, PushBodyEncoder } from './batch.js';
import type { LokiPushClient } from './push-client.js';
import { readRefusals } from './refusals.js';
import { cutDetail } from './retrying-client.js';

/** Occurrence ids named in a batch-drop log line: enough to find them, not one line per entry. */
const SAMPLE_IDS = 3;

export interface Delivery {
  readonly client: LokiPushClient;
  readonly encoder: PushBodyEncoder;
  readonly deps: SinkDeps;
  /** The client's retry limit, for the log line when it runs out. */
  readonly maxRetries: number;
  /** Aborted when the drain deadline passes. */
  readonly signal: AbortSignal;
  /** Reports one outcome for each of these entries (and frees them). */
  readonly settle: (entries: readonly HeldEntry[], outcome: DeliveryOutcome) => void;
}

/**
 * Delivers a batch. A 413 splits it in halves, each delivered in turn (in order), until a part
 * passes; a single entry still answered 413 is dropped as `too_large`.
 */
export async function deliverBatch(batch: Batch, delivery: Delivery): Promise<void> {
  const parts: Batch[] = [batch];
  for (let part = parts.shift(); part !== undefined; part = parts.shift()) {
    const halves = await deliverPart(part, delivery);
    if (halves !== undefined) parts.unshift(...halves);
  }
}

/** Pushes one part (the client retries) and settles it by Loki's answer; returns halves when it must be split. */
async function deliverPart(batch: Batch, delivery: Delivery): Promise<[Batch, Batch] | undefined> {
  const { client, deps, settle } = delivery;
  const { metrics, logger, progress } = deps;
  const entries = batch.entries;
  const body = batch.encode(delivery.encoder);
  const result = await client.send(body, delivery.signal);
  switch (result.kind) {
    case 'delivered':
      metrics.entriesPushed.inc(entries.length);
      metrics.bytesPushed.inc(body.length);
      progress.sinkDelivered();
      settle(entries, { kind: 'delivered' });
      return undefined;
    case 'refused':
      settleRefusal(batch, result.statusCode, result.body, body.length, delivery);
      return undefined;
    case 'too_large':
      if (entries.length > 1) {
        logger.info({ statusCode: result.statusCode, entries: entries.length, bytes: body.length }, 'Loki (or a proxy before it) refused the push as too large; splitting it in halves');
        return batch.halves();
      }
      logger.warn(
        { reason: 'too_large', code: 'E_LOKI_REJECTED', statusCode: result.statusCode, bytes: body.length, reply: cutDetail(result.body), sampleIds: sampleIds(entries) },
        'a single entry is refused as too large; dropped',
      );
      settle(entries, { kind: 'dropped', reason: 'too_large', detail: `HTTP ${result.statusCode} for a push of ${body.length} bytes holding this entry alone` });
      return undefined;
    case 'aborted':
      dropAtShutdown(entries, delivery);
      return undefined;
    case 'retryable':
      // The client retried as often as allowed.
      logger.error(
        { reason: 'retries_exhausted', failure: result.failure, detail: cutDetail(result.detail), attempts: delivery.maxRetries + 1, entries: entries.length, sampleIds: sampleIds(entries) },
        'Loki push failed too often; batch dropped',
      );
      settle(entries, { kind: 'dropped', reason: 'retries_exhausted', detail: `${result.failure}: ${result.detail}` });
      return undefined;
  }
}

/**
 * A 400: drops exactly the entries Loki's answer names, each with its reason, and reports the
 * rest delivered (Loki stored them). An answer that names nothing we sent drops the whole
 * batch as `loki_rejected`. One log line per batch either way.
 */
function settleRefusal(batch: Batch, statusCode: number, reply: string, bodyBytes: number, { deps, settle }: Delivery): void {
  const { metrics, logger, progress } = deps;
  const entries = batch.entries;
  const { refused, unmatched } = readRefusals(reply, batch.sentStreams());
  if (refused.size === 0) {
    // An expected HTTP answer, not a fault in this program: one line for the batch, no stack.
    logger.warn(
      { reason: 'loki_rejected', code: 'E_LOKI_REJECTED', statusCode, reply: cutDetail(reply), entries: entries.length, sampleIds: sampleIds(entries) },
      'Loki rejected a push; batch dropped',
    );
    settle(entries, { kind: 'dropped', reason: 'loki_rejected', detail: `HTTP ${statusCode}: ${cutDetail(reply)}` });
    return;
  }
  const byReason = new Map<LokiRefusalReason, HeldEntry[]>();
  const stored: HeldEntry[] = [];
  entries.forEach((entry, i) => {
    const reason = refused.get(i);
    if (reason === undefined) stored.push(entry);
    else byReason.set(reason, [...(byReason.get(reason) ?? []), entry]);
  });
  logger.warn(
    {
      code: 'E_LOKI_REJECTED',
      statusCode,
      refused: Object.fromEntries([...byReason].map(([reason, dropped]) => [reason, dropped.length])),
      stored: stored.length,
      ...(unmatched > 0 ? { unmatchedMessages: unmatched } : {}),
      reply: cutDetail(reply),
      sampleIds: sampleIds([...byReason.values()].flat()),
    },
    'Loki refused entries of a push; those are dropped, the rest was stored',
  );
  if (stored.length > 0) {
    metrics.entriesPushed.inc(stored.length);
    metrics.bytesPushed.inc(bodyBytes);
    progress.sinkDelivered();
  }
  // Outcomes in acceptance order, so a listener sees them as it wrote them.
  const outcomes = entries.map((entry, i): [HeldEntry, DeliveryOutcome] => {
    const reason = refused.get(i);
    return [entry, reason === undefined ? { kind: 'delivered' } : { kind: 'dropped', reason, detail: `Loki refused it (${reason}) with HTTP ${statusCode}` }];
  });
  for (const [entry, outcome] of outcomes) settle([entry], outcome);
}

/** The batch in flight when the drain deadline passed: one line for it, one outcome per entry. */
function dropAtShutdown(entries: readonly HeldEntry[], { deps, settle }: Delivery): void {
  deps.logger.warn({ reason: 'shutdown', entries: entries.length, sampleIds: sampleIds(entries) }, 'push not finished before the drain timeout; batch dropped');
  settle(entries, { kind: 'dropped', reason: 'shutdown', detail: 'not delivered before the drain timeout' });
}

export function sampleIds(entries: readonly Pick<HeldEntry, 'occurrenceId'>[]): string[] {
  return entries.slice(0, SAMPLE_IDS).map((entry) => entry.occurrenceId);
}
