/**
 * The Loki sink: a bounded queue in front of one sender loop that batches entries into streams,
 * pushes one batch at a time (so order is kept) and retries it with exponential backoff and full
 * jitter. Every accepted entry gets exactly one outcome.
 */
import { Buffer } from 'node:buffer';
import type { Random } from '../../core/clock.js';
import type { CloseReport, DeliveryOutcome, Entry, EntrySink, OutcomeListener, SinkDropReason } from '../../core/entry.js';
import type { SinkDeps } from '../deps.js';
import { encodePushBody, type PushEntry, type PushStream } from './codec.js';
import { LokiUnavailableError } from './errors.js';
import { formatLabels } from './labels.js';
import { resolveLokiSinkOptions, type LokiSinkOptions, type ResolvedLokiSinkOptions } from './options.js';
import { createLokiPushClient, type LokiPushClient, type SendResult } from './push-client.js';

/** Bytes counted per entry on top of its strings: timestamp and protobuf framing. */
const ENTRY_OVERHEAD_BYTES = 16;
/** Occurrence ids named in a batch-drop log line: enough to find them, not one line per entry. */
const SAMPLE_IDS = 3;
/** Longest failure detail put into a log line or an outcome. */
const MAX_DETAIL_CHARS = 1_024;

interface Held {
  readonly entry: Entry;
  readonly onOutcome: OutcomeListener;
  readonly labels: string;
  /** Line + structured metadata (when sent) + label string, UTF-8 bytes, plus overhead. */
  readonly size: number;
  /** Order of acceptance; outcomes come in this order. */
  seq: number;
  enqueuedAt: number;
}

interface Waiter {
  readonly item: Held;
  readonly resolve: () => void;
}

export function createLokiSink(options: LokiSinkOptions, deps: SinkDeps): EntrySink {
  const resolved = resolveLokiSinkOptions(options);
  return new LokiSink(resolved, deps, createLokiPushClient(resolved, deps.clock));
}

class LokiSink implements EntrySink {
  /** Accepted, not yet in a batch, in acceptance order. */
  private queue: Held[] = [];
  /** Producers paused by a full queue, in arrival order. */
  private readonly waiters: Waiter[] = [];
  private queuedBytes = 0;
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
  private inFlight: Held[] = [];
  private readonly loop: Promise<void>;

  constructor(
    private readonly options: ResolvedLokiSinkOptions,
    private readonly deps: SinkDeps,
    private readonly client: LokiPushClient,
  ) {
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
      this.settle([{ entry, onOutcome }], { kind: 'dropped', reason: 'shutdown', detail: 'sink is closed' });
      return Promise.resolve();
    }
    const item = this.prepare(entry, onOutcome);
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

  private prepare(entry: Entry, onOutcome: OutcomeListener): Held {
    const labels = formatLabels(entry.labels);
    let size = ENTRY_OVERHEAD_BYTES + Buffer.byteLength(labels, 'utf8') + Buffer.byteLength(entry.line, 'utf8');
    if (this.options.structuredMetadata) {
      for (const name in entry.structuredMetadata) {
        size += Buffer.byteLength(name, 'utf8') + Buffer.byteLength(entry.structuredMetadata[name] ?? '', 'utf8');
      }
    }
    return { entry, onOutcome, labels, size, seq: 0, enqueuedAt: 0 };
  }

  /** Whether an entry may join what is held now (entries larger than the whole cap never get here). */
  private fits(size: number): boolean {
    return this.heldEntries === 0 || this.heldBytes + size <= this.options.queueMaxBytes;
  }

  private admit(item: Held): void {
    item.seq = ++this.acceptedSeq;
    item.enqueuedAt = this.deps.clock.now();
    this.queue.push(item);
    this.queuedBytes += item.size;
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
      this.inFlight = this.takeBatch();
      await this.deliver(this.inFlight);
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
  private takeBatch(): Held[] {
    let count = 0;
    let bytes = 0;
    for (const item of this.queue) {
      if (count >= this.options.batchMaxEntries) break;
      if (count > 0 && bytes + item.size > this.options.batchMaxBytes) break;
      count += 1;
      bytes += item.size;
    }
    const batch = this.queue.slice(0, count);
    this.queue = this.queue.slice(count);
    this.queuedBytes -= bytes;
    return batch;
  }

  private toStreams(batch: readonly Held[]): PushStream[] {
    const byLabels = new Map<string, Held[]>();
    for (const item of batch) {
      const stream = byLabels.get(item.labels);
      if (stream === undefined) byLabels.set(item.labels, [item]);
      else stream.push(item);
    }
    const withMetadata = this.options.structuredMetadata;
    const streams: PushStream[] = [];
    for (const [labels, items] of byLabels) {
      // Array#sort is stable: equal timestamps keep their order of acceptance.
      items.sort((a, b) => (a.entry.timestampNs < b.entry.timestampNs ? -1 : a.entry.timestampNs > b.entry.timestampNs ? 1 : 0));
      const entries: PushEntry[] = items.map(({ entry }) => ({
        timestampNs: entry.timestampNs,
        line: entry.line,
        structuredMetadata: withMetadata ? entry.structuredMetadata : {},
      }));
      streams.push({ labels, entries });
    }
    return streams;
  }

  private async deliver(batch: Held[]): Promise<void> {
    const { metrics, logger, clock, random, progress } = this.deps;
    const body = encodePushBody(this.toStreams(batch));
    for (let attempt = 0; ; attempt++) {
      const started = clock.now();
      const result = await this.client.send(body, this.shutdown.signal);
      if (result.kind !== 'aborted') {
        metrics.pushRequests.inc({ status_code: statusLabel(result) });
        metrics.pushDuration.observe(Math.max(0, clock.now() - started) / 1000);
      }
      switch (result.kind) {
        case 'delivered':
          metrics.entriesPushed.inc(batch.length);
          metrics.bytesPushed.inc(body.length);
          progress.sinkDelivered();
          this.settle(batch, { kind: 'delivered' });
          return;
        case 'rejected': {
          // An expected HTTP answer, not a fault in this program: one line for the batch, no stack.
          logger.warn(
            { reason: 'loki_rejected', code: 'E_LOKI_REJECTED', statusCode: result.statusCode, reply: cut(result.body), entries: batch.length, sampleIds: sampleIds(batch) },
            'Loki rejected a push; batch dropped',
          );
          this.settle(batch, { kind: 'dropped', reason: 'loki_rejected', detail: `HTTP ${result.statusCode}: ${result.body}` });
          return;
        }
        case 'aborted':
          this.dropAtShutdown(batch);
          return;
        case 'retryable': {
          progress.sinkUnavailable();
          if (attempt >= this.options.maxRetries) {
            logger.error(
              { reason: 'retries_exhausted', failure: result.failure, detail: cut(result.detail), attempts: attempt + 1, entries: batch.length, sampleIds: sampleIds(batch) },
              'Loki push failed too often; batch dropped',
            );
            this.settle(batch, { kind: 'dropped', reason: 'retries_exhausted', detail: `${result.failure}: ${result.detail}` });
            return;
          }
          const delayMs = this.backoff(attempt, result.afterMs, random);
          logger.warn({ failure: result.failure, detail: cut(result.detail), attempt: attempt + 1, delayMs }, 'Loki push failed; retrying');
          metrics.pushRetries.inc();
          try {
            await clock.sleep(delayMs, this.shutdown.signal);
          } catch {
            this.dropAtShutdown(batch);
            return;
          }
        }
      }
    }
  }

  /**
   * Full jitter over 500 ms · 2^attempt capped at 5 min (by default); a Retry-After wins, but never
   * below the minimum backoff, so `Retry-After: 0` cannot turn into a zero-delay retry loop.
   */
  private backoff(attempt: number, afterMs: number | undefined, random: Random): number {
    const { minBackoffMs, maxBackoffMs } = this.options;
    if (afterMs !== undefined) return Math.max(minBackoffMs, Math.min(afterMs, maxBackoffMs));
    const ceiling = Math.min(maxBackoffMs, minBackoffMs * 2 ** Math.min(attempt, 52));
    return Math.floor(random() * ceiling);
  }

  /** Reports one outcome per item, frees their bytes, lets paused producers in and resolves flushes. */
  private settle(items: readonly (Pick<Held, 'entry' | 'onOutcome'> & Partial<Held>)[], outcome: DeliveryOutcome): void {
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

  /** The batch in flight when the drain deadline passed: one line for it, one outcome per entry. */
  private dropAtShutdown(batch: Held[]): void {
    this.deps.logger.warn({ reason: 'shutdown', entries: batch.length, sampleIds: sampleIds(batch) }, 'push not finished before the drain timeout; batch dropped');
    this.settle(batch, { kind: 'dropped', reason: 'shutdown', detail: 'not delivered before the drain timeout' });
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
        waiting.map((w) => ({ entry: w.item.entry, onOutcome: w.item.onOutcome })),
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

function sampleIds(batch: readonly Held[]): string[] {
  return batch.slice(0, SAMPLE_IDS).map((item) => item.entry.occurrenceId);
}

function cut(text: string): string {
  return text.length > MAX_DETAIL_CHARS ? text.slice(0, MAX_DETAIL_CHARS) : text;
}

function statusLabel(result: Exclude<SendResult, { kind: 'aborted' }>): string {
  switch (result.kind) {
    case 'delivered':
    case 'rejected':
      return String(result.statusCode);
    case 'retryable':
      return String(result.failure);
  }
}
