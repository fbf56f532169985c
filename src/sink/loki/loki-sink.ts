/**
 * The Loki sink: a bounded queue in front of one sender loop. Entries are encoded on arrival
 * (batch.ts), a full queue pauses the producer, batches are cut from the head by size, count or
 * age and pushed one at a time (so order is kept) through the retrying client, and every accepted
 * entry gets exactly one outcome, in acceptance order.
 */
import type { CloseReport, DeliveryOutcome, Entry, EntrySink, OutcomeListener, SinkDropReason } from '../../core/entry.js';
import type { SinkDeps } from '../deps.js';
import { Batch, EntryEncoder, PushBodyEncoder, type HeldEntry } from './batch.js';
import { LokiUnavailableError } from './errors.js';
import { resolveLokiSinkOptions, type LokiSinkOptions, type ResolvedLokiSinkOptions } from './options.js';
import { createLokiPushClient, type LokiPushClient } from './push-client.js';
import { deliverBatch, sampleIds, type Delivery } from './delivery.js';
import { RetryingPushClient } from './retrying-client.js';

interface Waiter {
  readonly item: HeldEntry;
  readonly resolve: () => void;
}

export function createLokiSink(options: LokiSinkOptions, deps: SinkDeps): EntrySink {
  const resolved = resolveLokiSinkOptions(options);
  const client = new RetryingPushClient(createLokiPushClient(resolved, deps.clock, deps.logger), resolved, deps);
  return new LokiSink(resolved, deps, client);
}

class LokiSink implements EntrySink {
  /** Accepted, not yet in a batch, in acceptance order. */
  private queue: HeldEntry[] = [];
  /** Producers paused by a full queue, in arrival order. */
  private readonly waiters: Waiter[] = [];
  /** Queued wire bytes, for cutting batches. */
  private queuedBytes = 0;
  private readonly encoder: EntryEncoder;
  /** Queued plus in flight: what the byte cap bounds. */
  private heldBytes = 0;
  private heldEntries = 0;
  private acceptedSeq = 0;
  private settledSeq = 0;
  private flushTarget = 0;
  private readonly flushWaiters: { target: number; resolve: () => void }[] = [];
  private delivered = 0;
  private dropped = 0;
  private closing = false;
  private closeResult: Promise<CloseReport> | undefined;
  /** Aborted when the drain deadline passes: ends the push or backoff in progress. */
  private readonly shutdown = new AbortController();
  private wakeLoop: (() => void) | undefined;
  /** The batch being pushed, so an unexpected failure of the loop can still report it. */
  private inFlight: readonly HeldEntry[] = [];
  private readonly loop: Promise<void>;
  private readonly delivery: Delivery;

  constructor(
    private readonly options: ResolvedLokiSinkOptions,
    private readonly deps: SinkDeps,
    private readonly client: LokiPushClient,
  ) {
    this.encoder = new EntryEncoder(options.structuredMetadata);
    this.delivery = { client, encoder: new PushBodyEncoder(), deps, maxRetries: options.maxRetries, signal: this.shutdown.signal, settle: (entries, outcome) => this.settle(entries, outcome) };
    this.loop = this.run().catch((err: unknown) => {
      // Not expected: every failure is an outcome. Report what is held rather than leave it hanging.
      deps.logger.error({ err }, 'Loki sink loop failed');
      const batch = this.inFlight;
      this.inFlight = [];
      this.settle(batch, { kind: 'dropped', reason: 'shutdown', detail: 'sink loop failed' });
      this.dropEverything('shutdown', 'sink loop failed');
    });
  }

  write(entry: Entry, onOutcome: OutcomeListener): Promise<void> {
    if (this.closing) {
      this.settle([{ occurrenceId: entry.occurrenceId, onOutcome }], { kind: 'dropped', reason: 'shutdown', detail: 'sink is closed' });
      return Promise.resolve();
    }
    const item = this.encoder.encode(entry, onOutcome);
    if (item.size > this.options.queueMaxBytes) {
      this.deps.logger.warn({ bytes: item.size, queueMaxBytes: this.options.queueMaxBytes }, 'entry larger than the whole queue; dropped');
      this.settle([item], { kind: 'dropped', reason: 'too_large', detail: `entry of ${item.size} bytes exceeds the queue cap` });
      return Promise.resolve();
    }
    if (this.waiters.length > 0 || !this.fits(item.size)) {
      return new Promise<void>((resolve) => this.waiters.push({ item, resolve }));
    }
    this.admit(item);
    return Promise.resolve();
  }

  flush(): Promise<void> {
    if (this.settledSeq >= this.acceptedSeq) return Promise.resolve();
    const target = this.acceptedSeq;
    this.flushTarget = Math.max(this.flushTarget, target);
    this.wake();
    return new Promise<void>((resolve) => this.flushWaiters.push({ target, resolve }));
  }

  close(drainTimeoutMs: number): Promise<CloseReport> {
    this.closeResult ??= this.shutDown(drainTimeoutMs);
    return this.closeResult;
  }

  private async shutDown(drainTimeoutMs: number): Promise<CloseReport> {
    this.closing = true;
    this.wake();
    const deadline = new AbortController();
    const expired = this.deps.clock.sleep(drainTimeoutMs, deadline.signal).then(
      () => this.shutdown.abort(new LokiUnavailableError('drain timeout passed')),
      () => undefined,
    );
    await this.loop;
    deadline.abort();
    await expired;
    // Anything that arrived during the last push (a waiter admitted late) is reported too.
    this.shutdown.abort();
    this.dropEverything('shutdown', 'not delivered before the drain timeout');
    await this.client.close();
    return { delivered: this.delivered, dropped: this.dropped };
  }

  /** Whether an entry may join what is held now (entries larger than the whole cap never get here). */
  private fits(size: number): boolean {
    return this.heldEntries === 0 || this.heldBytes + size <= this.options.queueMaxBytes;
  }

  private admit(item: HeldEntry): void {
    item.seq = ++this.acceptedSeq;
    item.enqueuedAt = this.deps.clock.now();
    this.queue.push(item);
    this.queuedBytes += item.wireSize;
    this.heldBytes += item.size;
    this.heldEntries += 1;
    if (this.heldEntries === 1) this.deps.progress.sinkPending(true);
    this.updateGauges();
    if (this.queue.length === 1 || this.batchFull()) this.wake();
  }

  private batchFull(): boolean {
    return this.queuedBytes >= this.options.batchMaxBytes || this.queue.length >= this.options.batchMaxEntries;
  }

  private wake(): void {
    const wake = this.wakeLoop;
    this.wakeLoop = undefined;
    wake?.();
  }

  private nextWake(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.wakeLoop = resolve;
    });
  }

  private async run(): Promise<void> {
    while (await this.waitForBatch()) {
      const batch = this.takeBatch();
      this.inFlight = batch.entries;
      await deliverBatch(batch, this.delivery);
      this.inFlight = [];
    }
  }

  /** Resolves true when a batch should go now, false when the sink is closed and empty or aborted. */
  private async waitForBatch(): Promise<boolean> {
    for (;;) {
      if (this.shutdown.signal.aborted) return false;
      const head = this.queue[0];
      if (head === undefined) {
        if (this.closing && this.waiters.length === 0) return false;
        await this.nextWake();
        continue;
      }
      if (this.closing || this.batchFull() || head.seq <= this.flushTarget) return true;
      const remaining = head.enqueuedAt + this.options.batchMaxWaitMs - this.deps.clock.now();
      if (remaining <= 0) return true;
      const timer = new AbortController();
      await Promise.race([this.nextWake(), this.deps.clock.sleep(remaining, timer.signal).catch(() => undefined)]);
      timer.abort();
    }
  }

  /** Takes entries from the head: up to the entry cap, and up to the byte cap unless one entry alone exceeds it. */
  private takeBatch(): Batch {
    let count = 0;
    let bytes = 0;
    for (const item of this.queue) {
      if (count >= this.options.batchMaxEntries) break;
      if (count > 0 && bytes + item.wireSize > this.options.batchMaxBytes) break;
      count += 1;
      bytes += item.wireSize;
    }
    const batch = new Batch(this.queue.slice(0, count));
    this.queue = this.queue.slice(count);
    this.queuedBytes -= bytes;
    return batch;
  }

  /** Reports one outcome per item, frees their bytes, lets paused producers in and resolves flushes. */
  private settle(items: readonly (Pick<HeldEntry, 'occurrenceId' | 'onOutcome'> & Partial<HeldEntry>)[], outcome: DeliveryOutcome): void {
    const { metrics, logger, progress } = this.deps;
    if (outcome.kind === 'delivered') {
      this.delivered += items.length;
      metrics.eventsShipped.inc(items.length);
    } else {
      this.dropped += items.length;
      metrics.eventsDropped.inc({ reason: outcome.reason }, items.length);
    }
    let freedBytes = 0;
    let freedEntries = 0;
    for (const item of items) {
      if (item.seq !== undefined && item.seq > 0) {
        freedBytes += item.size ?? 0;
        freedEntries += 1;
        this.settledSeq = Math.max(this.settledSeq, item.seq);
      }
      try {
        item.onOutcome(outcome);
      } catch (err) {
        logger.error({ err }, 'outcome listener threw');
      }
    }
    if (freedEntries > 0) {
      this.heldBytes -= freedBytes;
      this.heldEntries -= freedEntries;
      this.admitWaiters();
      if (this.heldEntries === 0) progress.sinkPending(false);
      this.updateGauges();
      this.resolveFlushes();
    }
  }

  private admitWaiters(): void {
    while (this.waiters.length > 0) {
      const next = this.waiters[0];
      if (next === undefined || !this.fits(next.item.size)) break;
      this.waiters.shift();
      this.admit(next.item);
      next.resolve();
    }
  }

  private resolveFlushes(): void {
    for (let i = this.flushWaiters.length - 1; i >= 0; i--) {
      const waiter = this.flushWaiters[i];
      if (waiter !== undefined && waiter.target <= this.settledSeq) {
        this.flushWaiters.splice(i, 1);
        waiter.resolve();
      }
    }
  }

  /** After the drain deadline: everything still queued or waiting is reported dropped. */
  private dropEverything(reason: SinkDropReason, detail: string): void {
    const queued = this.queue;
    this.queue = [];
    this.queuedBytes = 0;
    const waiting = this.waiters.splice(0);
    const left = queued.length + waiting.length;
    if (left > 0) {
      const ids = sampleIds([...queued, ...waiting.map((w) => w.item)]);
      this.deps.logger.warn({ reason, detail, entries: left, sampleIds: ids }, 'entries not sent; dropped');
    }
    if (queued.length > 0) this.settle(queued, { kind: 'dropped', reason, detail });
    if (waiting.length > 0) {
      this.settle(
        waiting.map((w) => ({ occurrenceId: w.item.occurrenceId, onOutcome: w.item.onOutcome })),
        { kind: 'dropped', reason, detail },
      );
      for (const w of waiting) w.resolve();
    }
    // Flushes waiting on entries that are now all settled resolve; none can remain.
    this.settledSeq = this.acceptedSeq;
    this.resolveFlushes();
  }

  private updateGauges(): void {
    this.deps.metrics.queueBytes.set(this.heldBytes);
    this.deps.metrics.queueEntries.set(this.heldEntries);
  }
}
