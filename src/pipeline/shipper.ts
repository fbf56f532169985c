/**
 * The pipeline: source → filters → transform → de-duplication → sink, with the checkpoint
 * advanced only to the low-watermark below which every occurrence has an outcome.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { keyOf } from '../checkpoint/id-hash.js';
import type { CheckpointStore } from '../checkpoint/record.js';
import { ShippedCounts } from '../checkpoint/shipped-counts.js';
import type { Clock, Random } from '../core/clock.js';
import type { Entry, EntrySink } from '../core/entry.js';
import type { ProgressListener } from '../core/progress.js';
import type { Metrics } from '../observe/metrics.js';
import { createEventSource } from '../source/index.js';
import type { SourceHandler, SourceItem, SourceOptions } from '../source/index.js';
import type { Transformer } from '../transform/index.js';
import { CheckpointWriter, loadCheckpoint } from './checkpoint-io.js';
import { eventRef, toEntry } from './event-entry.js';
import { filteredBy } from './filters.js';
import type { EventFilterOptions } from './filters.js';
import { isFinalDrop } from './final-drop.js';
import { ListedOrder, type ShipListed } from './listed-order.js';
import { RecentIds, DEFAULT_RECENT_CAPACITY } from './recent-ids.js';
import { Retimer } from './retimer.js';
import { StreamTimes } from './stream-times.js';
import { Watermark } from './watermark.js';

/** Loki 3's default out-of-order window per stream (max_chunk_age / 2). */
export const DEFAULT_OUT_OF_ORDER_WINDOW_MS = 60 * 60_000;

export interface ShipperOptions {
  readonly source: SourceOptions;
  /** Client-side filters on type, reason and kind (namespaces come from `source.excludeNamespaces`). */
  readonly filters: Omit<EventFilterOptions, 'excludeNamespaces'>;
  /** The checkpoint is written at most this often (and once more on shutdown). */
  readonly checkpointIntervalMs: number;
  /** How long the sink may keep delivering what it holds after the stop signal. */
  readonly drainTimeoutMs: number;
  /**
   * Loki refuses an entry this much older than the newest its stream holds (default 1 h); older
   * ones are moved to the edge (see stream-times.ts).
   */
  readonly outOfOrderWindowMs?: number;
  /** Memory budget for sorting one list by time before it spills to disk (default 8 MiB). */
  readonly sortBudgetBytes?: number;
  /** Where a list's sorted runs spill (default: the OS temp directory). */
  readonly sortDir?: string;
}

export interface ShipperDeps {
  readonly kubeConfig: KubeConfig;
  readonly sink: EntrySink;
  readonly transformer: Transformer;
  /** Where to resume from and record progress; undefined runs without a checkpoint. */
  readonly checkpoint: CheckpointStore | undefined;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly random: Random;
  readonly progress: ProgressListener;
}

export interface Shipper {
  /**
   * Resumes from the checkpoint, ships until `signal` aborts, then stops watching, lets the sink
   * deliver what it holds (up to `drainTimeoutMs`, closing it), and writes the final checkpoint.
   * Resolves after that clean stop. API errors are retried inside, not thrown.
   */
  run(signal: AbortSignal): Promise<void>;
}

export function createShipper(options: ShipperOptions, deps: ShipperDeps): Shipper {
  return { run: (signal) => runShipper(options, deps, signal) };
}

async function runShipper(options: ShipperOptions, deps: ShipperDeps, signal: AbortSignal): Promise<void> {
  const { metrics, logger: log, clock, sink, transformer } = deps;
  const filters: EventFilterOptions = { ...options.filters, excludeNamespaces: options.source.excludeNamespaces };
  const recent = new RecentIds(DEFAULT_RECENT_CAPACITY);
  // The count last shipped per event, two views: `shipped` counts only occurrences with a final
  // outcome (like `recent`, it goes into the checkpoint, so a restart or another replica resuming
  // from it computes the same `occurrences` for what it sends again); `sent` also counts what is in
  // flight, so an update that comes before the previous one is acked adds only its own rise.
  const shipped = new ShippedCounts();
  const sent = new ShippedCounts();
  // Ids and uids are hashed once per event (`keyOf`), and the keys passed to every record.
  const raiseBoth = (uid: string, count: number, uidKey: string): void => {
    shipped.raise(uid, count, uidKey);
    sent.raise(uid, count, uidKey);
  };
  const inflight = new Set<string>();
  const watermarks = new Map<string, Watermark>();
  const retimer = new Retimer(new StreamTimes(options.outOfOrderWindowMs ?? DEFAULT_OUT_OF_ORDER_WINDOW_MS), (e, ts) => transformer.retime(e, ts), metrics);
  let closing = false;

  /** Places the entry on its stream's timeline and hands it to the sink; `done` once it has a final outcome. */
  const ship = async (entry: Entry, idKey: string, uid: string, count: number, uidKey: string, done: () => void): Promise<void> => {
    const id = entry.occurrenceId;
    inflight.add(id);
    sent.raise(uid, count, uidKey);
    try {
      await sink.write(retimer.place(entry), (outcome) => {
        inflight.delete(id);
        // Not stored in Loki for a passing reason (shutdown, or Loki down longer than the sink's
        // retries): no final outcome, so the watermark stays before it and the next run sends it.
        if (outcome.kind === 'dropped' && !isFinalDrop(outcome.reason)) return;
        recent.add(id, idKey);
        shipped.raise(uid, count, uidKey);
        done();
      });
    } catch (err) {
      inflight.delete(id);
      if (!closing) throw err;
    }
  };

  /** A listed entry, once its list is sorted: skipped as a duplicate when shipped before (see onItem). */
  const shipListed: ShipListed = async (entry, { seq, uid, count }, wm) => {
    const done = (): void => wm.complete(seq);
    const id = entry.occurrenceId;
    const idKey = keyOf(id);
    const uidKey = keyOf(uid);
    if (recent.has(id, idKey) || inflight.has(id)) {
      if (!inflight.has(id)) raiseBoth(uid, count, uidKey);
      metrics.eventsDuplicate.inc();
      done();
      return 'duplicate';
    }
    await ship(entry, idKey, uid, count, uidKey, done);
    return 'handed';
  };
  const listed = new ListedOrder(
    { outOfOrderWindowMs: options.outOfOrderWindowMs ?? DEFAULT_OUT_OF_ORDER_WINDOW_MS, sortBudgetBytes: options.sortBudgetBytes, sortDir: options.sortDir },
    log,
    shipListed,
    () => closing,
  );

  const handler: SourceHandler = {
    async onItem(stream: string, item: SourceItem): Promise<void> {
      const wm = watermarks.get(stream);
      if (!wm) return;
      // A list's entries go out before anything that comes after it (a watch, another list).
      // (Awaited only when there is one: `await undefined` would cost every event a microtask turn.)
      const listDraining = listed.drainingOf(stream);
      if (listDraining !== undefined) await listDraining;
      // Dated when read, not now: the source may have waited long on a full sink meanwhile.
      const seq = wm.begin(item.resourceVersion, item.receivedAtMs);
      const done = (): void => wm.complete(seq);
      if (item.type === 'DELETED') return done();
      const filter = filteredBy(item.object, filters);
      if (filter !== undefined) {
        metrics.eventsFiltered.inc({ filter });
        if (log.isLevelEnabled('debug')) log.debug({ stream, filter, ...eventRef(item.object) }, 'event filtered out');
        return done();
      }
      const made = toEntry(transformer, item.object, sent);
      if (!made.ok) {
        metrics.eventsDropped.inc({ reason: 'malformed' });
        const meta = item.object['metadata'] as { uid?: unknown; namespace?: unknown; name?: unknown } | undefined;
        log.warn({ stream, reason: made.reason, detail: made.detail, uid: meta?.uid, namespace: meta?.namespace, name: meta?.name }, 'malformed event dropped');
        return done();
      }
      const { entry, uid, count, uidKey } = made;
      const id = entry.occurrenceId;
      const idKey = keyOf(id);
      if (recent.has(id, idKey) || inflight.has(id)) {
        // Shipped before (maybe by an earlier run): its count is the base for the next update.
        if (!inflight.has(id)) raiseBoth(uid, count, uidKey);
        metrics.eventsDuplicate.inc();
        if (log.isLevelEnabled('debug')) log.debug({ stream, occurrenceId: id, ...eventRef(item.object) }, 'occurrence already shipped; not shipped again');
        return done();
      }
      // Written after the stop signal, an entry could not be delivered: leave it for the next run.
      if (closing) return;
      // A list comes in key order, its times spread over hours: sorted first (bounded memory).
      // Its `occurrences` was computed just now; a list holds each event once.
      if (item.type === 'LISTED') return listed.add(stream, wm, item.receivedAtMs, entry, { seq, uid, count });
      await ship(entry, idKey, uid, count, uidKey, done);
    },
    onSkipped(_stream: string, object: SourceItem['object']): void {
      // Left out by --initial (or too old for a relist): a later metadata-only update must not
      // ship this occurrence, so it joins the recent ids (and the checkpoint) as if shipped.
      // Its count too: a later update of that event adds only its rise over this state.
      const made = toEntry(transformer, object, sent);
      if (!made.ok) return;
      recent.add(made.entry.occurrenceId);
      raiseBoth(made.uid, made.count, made.uidKey);
    },
    onPosition(stream: string, resourceVersion: string, atMs: number): Promise<void> | undefined {
      const wm = watermarks.get(stream);
      if (!wm) return undefined;
      const shipped = listed.listEnded(stream, wm);
      // After the listed items' slots: the list's position counts only once they all have an outcome.
      wm.mark(resourceVersion, atMs);
      // The source awaits this before it watches (the watch would only wait for it in onItem).
      return shipped;
    },
  };

  const source = createEventSource(options.source, {
    kubeConfig: deps.kubeConfig,
    handler,
    metrics,
    logger: log,
    clock,
    random: deps.random,
    progress: deps.progress,
  });

  const starts = await loadCheckpoint(deps, source.streams, recent, [shipped, sent], retimer.times, signal);
  if (starts === undefined) return; // stopped while waiting for the checkpoint store
  for (const stream of source.streams) {
    const s = starts[stream];
    watermarks.set(stream, new Watermark(s ? { resourceVersion: s.resourceVersion, atMs: s.sinceMs } : undefined));
  }

  const writer = deps.checkpoint ? new CheckpointWriter(deps.checkpoint, deps, watermarks, recent, shipped, retimer.times) : undefined;
  const stopWriter = new AbortController();
  const writing = writer?.loop(options.checkpointIntervalMs, stopWriter.signal);

  const sourceDone = source.run(starts, signal);
  let closed: Promise<unknown> | undefined;
  const close = (): Promise<unknown> => {
    if (!closed) {
      closing = true;
      log.info({ drainTimeoutMs: options.drainTimeoutMs }, 'stopping: draining the sink');
      closed = sink.close(options.drainTimeoutMs);
    }
    return closed;
  };
  // Close the sink as soon as the stop signal comes, even while the source is blocked on a full queue.
  const onAbort = (): void => void close();
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  try {
    await sourceDone;
  } finally {
    signal.removeEventListener('abort', onAbort);
    const report = await close();
    await listed.dispose();
    stopWriter.abort();
    await writing;
    if (writer) await writer.saveIfChanged();
    log.info({ report, inflight: inflight.size }, 'stopped');
  }
}
