/**
 * `replay <file|->`: ships events from a file or stdin through the same transform and sink as
 * `run`. Each occurrence is shipped once per replay (the same occurrence seen twice in a watch dump
 * — e.g. a metadata-only update — is counted as a duplicate). `occurrences` is computed against
 * what this replay shipped before (no checkpoint is read): an event's first state in the input
 * counts its whole count, each later one its rise. The exit code is 0 only when every
 * event read was delivered: a malformed item or a dropped entry gives 1, with a summary on stderr.
 *
 * An archive comes in file order, its times spread over hours or days, and Loki refuses an entry
 * more than its out-of-order window older than the newest in its stream: the whole input is sorted
 * by time first (an external merge sort, bounded memory), then shipped oldest first.
 */
import type { Readable, Writable } from 'node:stream';
import type { Logger } from 'pino';
import { keyOf } from '../checkpoint/id-hash.js';
import { ShippedCounts } from '../checkpoint/shipped-counts.js';
import type { Clock } from '../core/clock.js';
import type { Entry, EntrySink } from '../core/entry.js';
import type { Metrics } from '../observe/metrics.js';
import type { Transformer } from '../transform/index.js';
import { DEFAULT_OUT_OF_ORDER_WINDOW_MS } from './shipper.js';
import { IdSet } from './id-set.js';
import { Retimer } from './retimer.js';
import { StreamTimes } from './stream-times.js';
import { DEFAULT_SORT_BUDGET_BYTES, orderSlackNs, TimeSorter } from './time-sorter.js';
import { readReplayBatches } from './replay-input.js';

/**
 * Events whose last count a replay remembers. A replay input holds each event once (a list) or a
 * few times close together (a watch dump), so this bounds memory without forgetting an event
 * between two of its states in practice.
 */
export const REPLAY_SHIPPED_COUNTS_CAPACITY = 200_000;

export interface ReplaySummary {
  /** Event objects read (skipped watch events and malformed items not included). */
  readonly events: number;
  readonly delivered: number;
  readonly dropped: number;
  readonly malformed: number;
  readonly duplicates: number;
  /** DELETED, BOOKMARK and ERROR watch events, which carry no new occurrence. */
  readonly skipped: number;
  readonly interrupted: boolean;
}

export interface ReplayDeps {
  readonly transformer: Transformer;
  readonly sink: EntrySink;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly clock: Clock;
  /** Progress lines go here (stderr). */
  readonly progressOut: Writable;
  readonly progressEveryMs: number;
  /** Time the sink may take to deliver what it holds once input ends or a signal arrives. */
  readonly drainTimeoutMs: number;
  /**
   * Sort the input by time before shipping (for Loki). Without it (stdout) lines stream out as
   * they are read, in input order.
   */
  readonly sortByTime: boolean;
  /** Loki's per-stream out-of-order window (default 1 h). */
  readonly outOfOrderWindowMs?: number;
  /** Memory budget of the sort before it spills to disk (default 8 MiB). */
  readonly sortBudgetBytes?: number;
  /** Where sorted runs spill (default: the OS temp directory). */
  readonly sortDir?: string;
}

export async function replay(input: Readable, deps: ReplayDeps, signal: AbortSignal): Promise<ReplaySummary> {
  const { transformer, sink, logger, metrics, clock } = deps;
  // Every occurrence id read, as a 64-bit hash: this grows with the input, so it must be small.
  const seen = new IdSet();
  const lastCounts = new ShippedCounts(REPLAY_SHIPPED_COUNTS_CAPACITY);
  const windowMs = deps.outOfOrderWindowMs ?? DEFAULT_OUT_OF_ORDER_WINDOW_MS;
  const sorter = new TimeSorter({
    budgetBytes: deps.sortBudgetBytes ?? DEFAULT_SORT_BUDGET_BYTES,
    // Input already in an order Loki accepts (half its window as margin) is read back unmerged.
    orderSlackNs: orderSlackNs(windowMs),
    ...(deps.sortDir !== undefined ? { dir: deps.sortDir } : {}),
  });
  const retimer = new Retimer(new StreamTimes(windowMs), (e, ts) => transformer.retime(e, ts), metrics);
  const counts = { events: 0, delivered: 0, dropped: 0, malformed: 0, duplicates: 0, skipped: 0 };
  let lastProgress = clock.now();
  const progress = (final: boolean): void => {
    const line = `replay: ${counts.events} events read, ${counts.delivered} delivered, ${counts.dropped} dropped, ${counts.malformed} malformed, ${counts.duplicates} duplicates, ${counts.skipped} skipped`;
    deps.progressOut.write((final ? line.replace(/^replay:/, 'replay done:') : line) + '\n');
  };
  // The sink counts shipped and dropped in the metrics; here only the summary.
  const write = (entry: Entry): Promise<void> => {
    // The listener keeps only the id: holding the entry would keep its line and objects alive
    // while the sink holds just its encoded bytes.
    const occurrenceId = entry.occurrenceId;
    return sink.write(entry, (outcome) => {
      if (outcome.kind === 'delivered') {
        counts.delivered += 1;
      } else {
        counts.dropped += 1;
        // The sink already logs each dropped batch once; per entry only at debug level.
        logger.debug({ reason: outcome.reason, detail: outcome.detail, occurrenceId }, 'entry dropped');
      }
    });
  };
  const tick = (): void => {
    if (clock.now() - lastProgress < deps.progressEveryMs) return;
    lastProgress = clock.now();
    progress(false);
  };
  try {
    reading: for await (const batch of readReplayBatches(input, signal)) {
      for (const item of batch) {
        if (signal.aborted) break reading;
        if (item.kind === 'skipped') {
          counts.skipped += item.count;
          continue;
        }
        if (item.kind === 'malformed') {
          counts.malformed += 1;
          metrics.eventsDropped.inc({ reason: 'malformed' });
          logger.warn({ line: item.line, reason: item.reason }, 'malformed replay input');
          continue;
        }
        counts.events += 1;
        metrics.eventsReceived.inc({ type: 'LISTED' });
        const normalized = transformer.normalize(item.event);
        if (!normalized.ok) {
          counts.malformed += 1;
          metrics.eventsDropped.inc({ reason: 'malformed' });
          logger.warn({ line: item.line, reason: normalized.reason, detail: normalized.detail }, 'malformed event');
          continue;
        }
        const { uid, count } = normalized.event;
        const uidKey = keyOf(uid);
        const entry = transformer.toEntry(normalized.event, lastCounts.occurrencesOf(uid, count, uidKey));
        if (!seen.add(entry.occurrenceId)) {
          counts.duplicates += 1;
          metrics.eventsDuplicate.inc();
          continue;
        }
        // In input order: an event's first state counts its whole count, each later one its rise.
        lastCounts.raise(uid, count, uidKey);
        if (deps.sortByTime) {
          // Awaited only when it spills: an await per entry costs a microtask turn each.
          const spilling = sorter.add(entry, 0);
          if (spilling !== undefined) await spilling;
        } else await write(entry);
        tick();
      }
    }
  } catch (err) {
    // The input fails with an AbortError when the signal destroys it; anything else is a read failure.
    if (!signal.aborted) {
      await sorter.dispose();
      throw err;
    }
  } finally {
    input.destroy();
  }
  // After a stop signal, what was read is still handed to the sink, for half the drain budget at
  // most (a full queue blocks); the sink's close gets the rest of the grace period.
  // One wait at a time is told: a Promise.race of each write with one long-pending promise would
  // leave a reaction on it per entry until the end (200k entries: ~80 MB of heap, 0.15 CPU-s).
  const stopWaiting = new AbortController();
  let gaveUp = false;
  let giveUp: ((gaveUp: true) => void) | undefined;
  const start = (): void =>
    void clock.sleep(deps.drainTimeoutMs / 2, stopWaiting.signal).then(
      () => {
        gaveUp = true;
        giveUp?.(true);
      },
      () => undefined,
    );
  if (signal.aborted) start();
  else signal.addEventListener('abort', start, { once: true });
  /** True when the wait was given up before the sink accepted the entry. */
  const acceptedOrGaveUp = (accepted: Promise<void>): Promise<boolean> =>
    new Promise<boolean>((resolve, reject) => {
      // A write accepted at once wins even after the deadline, as the first promise of a race would.
      accepted.then(() => resolve(false), reject);
      if (gaveUp) queueMicrotask(() => resolve(true));
      else giveUp = resolve;
    });
  try {
    // Oldest first, so no stream gets an entry more than the window older than what it holds.
    shipping: for await (const batch of sorter.drainBatches()) {
      for (const { entry } of batch) {
        if (await acceptedOrGaveUp(write(retimer.place(entry)))) break shipping;
      }
      tick();
    }
  } finally {
    stopWaiting.abort();
    await sorter.dispose();
  }
  if (!signal.aborted) {
    // Wait for every outcome, unless a signal asks to wrap up within the grace period instead.
    const aborted = new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    await Promise.race([sink.flush(), aborted]);
  }
  await sink.close(deps.drainTimeoutMs);
  progress(true);
  return { ...counts, interrupted: signal.aborted };
}
