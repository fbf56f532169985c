/**
 * The Loki sink: a bounded queue in front of one sender loop that batches entries into streams,
 * pushes one batch at a time (so order is kept) and retries it with exponential backoff and full
 * jitter. Every accepted entry gets exactly one outcome.
 */
import { Buffer } from 'node:buffer';
import { Backoff, type BackoffOptions } from '../../core/backoff.js';
import type { CloseReport, DeliveryOutcome, Entry, EntrySink, LabelMap, LokiRefusalReason, OutcomeListener, SinkDropReason } from '../../core/entry.js';
import type { SinkDeps } from '../deps.js';
import snappy from 'snappyjs';
import { encodeEntry, encodePushRequestFromEncoded } from './codec.js';
import { LokiUnavailableError } from './errors.js';
import { formatLabels, parseLabelString } from './labels.js';
import { resolveLokiSinkOptions, type LokiSinkOptions, type ResolvedLokiSinkOptions } from './options.js';
import { createLokiPushClient, type LokiPushClient, type SendResult } from './push-client.js';
import { readRefusals, type SentStream } from './refusals.js';

/** Bytes counted per entry on top of its strings when cutting batches: timestamp and protobuf framing. */
const ENTRY_OVERHEAD_BYTES = 16;
/**
 * Memory an entry costs while held, on top of its encoded bytes and its occurrence id: the Held
 * record, the Buffer object, the bigint time, the caller's outcome callback and its bookkeeping of
 * the entry (the pipeline's in-flight id). Measured with test/sink/queue-memory.test.ts.
 */
export const HELD_OVERHEAD_BYTES = 720;
/** Distinct label strings kept for sharing between held entries; past this the table starts over. */
const MAX_SHARED_LABEL_STRINGS = 10_000;
/** Occurrence ids named in a batch-drop log line: enough to find them, not one line per entry. */
const SAMPLE_IDS = 3;
/** The longest pause a server's Retry-After can impose. */
const MAX_RETRY_AFTER_MS = 5 * 60_000;
/** Longest failure detail put into a log line or an outcome. */
const MAX_DETAIL_CHARS = 1_024;

/**
 * An entry while the sink holds it: encoded as its protobuf bytes (the Entry object, its label and
 * metadata objects and strings are let go), with the few fields the sink still needs.
 */
interface Held {
  readonly occurrenceId: string;
  readonly onOutcome: OutcomeListener;
  /** The stream's label string, shared by the entries of one stream. */
  readonly labels: string;
  readonly timestampNs: bigint;
  /**
   * The entry as an EntryAdapter message (structured metadata left out when switched off), its
   * bytes kept as a one-byte (latin1) string: a byte per byte, counted exactly by the garbage
   * collector. A Buffer would be a slice of a shared 8 KiB pool slab and keep the whole slab alive
   * (measured: 1.4 KB retained per 380-byte entry).
   */
  readonly encoded: string;
  readonly lineBytes: number;
  readonly metadataCount: number;
  readonly metadataBytes: number;
  /** For batches: line + structured metadata (when sent) + label string, UTF-8 bytes, plus 16. */
  readonly wireSize: number;
  /** For the queue cap: what holding it costs in memory (encoded bytes + id + fixed overhead). */
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
  return new LokiSink(resolved, deps, createLokiPushClient(resolved, deps.clock, deps.logger));
}

class LokiSink implements EntrySink {
  /** Accepted, not yet in a batch, in acceptance order. */
  private queue: Held[] = [];
  /** Producers paused by a full queue, in arrival order. */
  private readonly waiters: Waiter[] = [];
  /** Queued wire bytes, for cutting batches. */
  private queuedBytes = 0;
  private readonly sharedLabels = new Map<string, string>();
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
  /** A push was answered 404 or a redirect, and nothing answered properly since: logged once. */
  private misrouted = false;
  /** The batch being pushed, so an unexpected failure of the loop can still report it. */
  private inFlight: Held[] = [];
  private readonly loop: Promise<void>;
  /**
   * Full jitter over 500 ms · 2^attempt capped at 5 s (by default). A Retry-After wins, up to 5
   * minutes (a server that asks for a pause gets it), but never below the minimum backoff.
   */
  private readonly retryBackoff: BackoffOptions;

  constructor(
    private readonly options: ResolvedLokiSinkOptions,
    private readonly deps: SinkDeps,
    private readonly client: LokiPushClient,
  ) {
    this.retryBackoff = { initialMs: options.minBackoffMs, maxMs: options.maxBackoffMs, jitter: { kind: 'full' }, maxServerDelayMs: MAX_RETRY_AFTER_MS };
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
    let labels = formatLabels(entry.labels);
    const shared = this.sharedLabels.get(labels);
    if (shared !== undefined) labels = shared;
    else {
      if (this.sharedLabels.size >= MAX_SHARED_LABEL_STRINGS) this.sharedLabels.clear();
      this.sharedLabels.set(labels, labels);
    }
    const withMetadata = this.options.structuredMetadata;
    const structuredMetadata = withMetadata ? entry.structuredMetadata : {};
    let metadataCount = 0;
    let metadataBytes = 0;
    for (const name in structuredMetadata) {
      metadataCount += 1;
      metadataBytes += Buffer.byteLength(name, 'utf8') + Buffer.byteLength(structuredMetadata[name] ?? '', 'utf8');
    }
    const lineBytes = Buffer.byteLength(entry.line, 'utf8');
    const encoded = encodeEntry({ timestampNs: entry.timestampNs, line: entry.line, structuredMetadata }).toString('latin1');
    return {
      occurrenceId: entry.occurrenceId,
      onOutcome,
      labels,
      timestampNs: entry.timestampNs,
      encoded,
      lineBytes,
      metadataCount,
      metadataBytes,
      wireSize: ENTRY_OVERHEAD_BYTES + Buffer.byteLength(labels, 'utf8') + lineBytes + metadataBytes,
      // A one-byte JS string costs a byte per character (two-byte strings are rare in ids).
      size: encoded.length + entry.occurrenceId.length + HELD_OVERHEAD_BYTES,
      seq: 0,
      enqueuedAt: 0,
    };
  }

  /** Whether an entry may join what is held now (entries larger than the whole cap never get here). */
  private fits(size: number): boolean {
    return this.heldEntries === 0 || this.heldBytes + size <= this.options.queueMaxBytes;
  }

  private admit(item: Held): void {
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
      if (count > 0 && bytes + item.wireSize > this.options.batchMaxBytes) break;
      count += 1;
      bytes += item.wireSize;
    }
    const batch = this.queue.slice(0, count);
    this.queue = this.queue.slice(count);
    this.queuedBytes -= bytes;
    return batch;
  }

  /** The batch as Loki will see it: one stream per label string, entries sorted by time. */
  private toStreams(batch: readonly Held[]): { labels: string; items: Held[] }[] {
    const byLabels = new Map<string, Held[]>();
    for (const item of batch) {
      const stream = byLabels.get(item.labels);
      if (stream === undefined) byLabels.set(item.labels, [item]);
      else stream.push(item);
    }
    const streams: { labels: string; items: Held[] }[] = [];
    for (const [labels, items] of byLabels) {
      // Array#sort is stable: equal timestamps keep their order of acceptance.
      items.sort((a, b) => (a.timestampNs < b.timestampNs ? -1 : a.timestampNs > b.timestampNs ? 1 : 0));
      streams.push({ labels, items });
    }
    return streams;
  }

  private encode(streams: readonly { labels: string; items: readonly Held[] }[]): Uint8Array {
    return snappy.compress(encodePushRequestFromEncoded(streams.map(({ labels, items }) => ({ labels, entries: items.map((item) => item.encoded) }))));
  }

  /**
   * Delivers a batch. A 413 splits it in halves, each delivered in turn (in order), until a part
   * passes; a single entry still answered 413 is dropped as `too_large`.
   */
  private async deliver(batch: Held[]): Promise<void> {
    const parts: Held[][] = [batch];
    for (let part = parts.shift(); part !== undefined; part = parts.shift()) {
      const halves = await this.deliverPart(part);
      if (halves !== undefined) parts.unshift(...halves);
    }
  }

  /** Pushes one part until Loki answers for good; returns halves when it must be split. */
  private async deliverPart(batch: Held[]): Promise<[Held[], Held[]] | undefined> {
    const { metrics, logger, clock, random, progress } = this.deps;
    const streams = this.toStreams(batch);
    const body = this.encode(streams);
    const backoff = new Backoff(this.retryBackoff, clock, random);
    for (let attempt = 0; ; attempt++) {
      const started = clock.now();
      const result = await this.client.send(body, this.shutdown.signal);
      if (result.kind !== 'aborted') {
        metrics.pushRequests.inc({ status_code: statusLabel(result) });
        metrics.pushDuration.observe(Math.max(0, clock.now() - started) / 1000);
      }
      switch (result.kind) {
        case 'delivered':
          this.pushWorks();
          metrics.entriesPushed.inc(batch.length);
          metrics.bytesPushed.inc(body.length);
          progress.sinkDelivered();
          this.settle(batch, { kind: 'delivered' });
          return undefined;
        case 'refused':
          this.pushWorks();
          this.settleRefusal(batch, streams, result.statusCode, result.body, body.length);
          return undefined;
        case 'too_large': {
          this.pushWorks();
          if (batch.length > 1) {
            const middle = Math.ceil(batch.length / 2);
            logger.info({ statusCode: result.statusCode, entries: batch.length, bytes: body.length }, 'Loki (or a proxy before it) refused the push as too large; splitting it in halves');
            return [batch.slice(0, middle), batch.slice(middle)];
          }
          logger.warn(
            { reason: 'too_large', code: 'E_LOKI_REJECTED', statusCode: result.statusCode, bytes: body.length, reply: cut(result.body), sampleIds: sampleIds(batch) },
            'a single entry is refused as too large; dropped',
          );
          this.settle(batch, { kind: 'dropped', reason: 'too_large', detail: `HTTP ${result.statusCode} for a push of ${body.length} bytes holding this entry alone` });
          return undefined;
        }
        case 'aborted':
          this.dropAtShutdown(batch);
          return undefined;
        case 'retryable': {
          const summary = `${typeof result.failure === 'number' ? `HTTP ${result.failure}` : result.failure} from ${this.options.pushUrl.href}`;
          progress.sinkUnavailable({ cause: result.cause, summary });
          // A long outage retries every few seconds: log the first tries, then one in twenty.
          const loud = attempt < 3 || attempt % 20 === 0;
          if (result.cause === 'auth') {
            // Credentials may be rotating: read the files again before the retry, whatever their times say.
            const changed = this.client.reloadCredentials();
            if (loud || changed) logger.warn({ statusCode: result.failure, credentialsChanged: changed, detail: cut(result.detail) }, 'Loki refused the credentials; read them again, retrying');
          } else if (result.cause === 'misrouted' && !this.misrouted) {
            this.misrouted = true;
            logger.error(
              { code: 'E_LOKI_MISROUTED', url: this.options.pushUrl.href, statusCode: result.failure, detail: cut(result.detail) },
              'the Loki push URL does not reach Loki (404 or redirect): a configuration problem, check --loki-url and the ingress; retrying until it works',
            );
          }
          if (attempt >= this.options.maxRetries) {
            logger.error(
              { reason: 'retries_exhausted', failure: result.failure, detail: cut(result.detail), attempts: attempt + 1, entries: batch.length, sampleIds: sampleIds(batch) },
              'Loki push failed too often; batch dropped',
            );
            this.settle(batch, { kind: 'dropped', reason: 'retries_exhausted', detail: `${result.failure}: ${result.detail}` });
            return undefined;
          }
          const delayMs = backoff.next(result.afterMs);
          if (loud) {
            logger.warn({ failure: result.failure, detail: cut(result.detail), attempt: attempt + 1, delayMs }, 'Loki push failed; retrying');
          }
          metrics.pushRetries.inc();
          try {
            await clock.sleep(delayMs, this.shutdown.signal);
          } catch {
            this.dropAtShutdown(batch);
            return undefined;
          }
        }
      }
    }
  }

  /** Loki answered: a misrouting logged before is over. */
  private pushWorks(): void {
    if (!this.misrouted) return;
    this.misrouted = false;
    this.deps.logger.info({ url: this.options.pushUrl.href }, 'the Loki push URL reaches Loki again');
  }

  /**
   * A 400: drops exactly the entries Loki's answer names, each with its reason, and reports the
   * rest delivered (Loki stored them). An answer that names nothing we sent drops the whole
   * batch as `loki_rejected`. One log line per batch either way.
   */
  private settleRefusal(batch: Held[], streams: readonly { labels: string; items: Held[] }[], statusCode: number, reply: string, bodyBytes: number): void {
    const { metrics, logger, progress } = this.deps;
    const indexOf = new Map<Held, number>(batch.map((item, i) => [item, i]));
    const sent: SentStream[] = streams.map(({ labels, items }) => ({
      labels: labelMapOf(labels),
      labelString: labels,
      entries: items.map((item) => ({ index: indexOf.get(item) ?? -1, timestampNs: item.timestampNs, lineBytes: item.lineBytes, metadataCount: item.metadataCount, metadataBytes: item.metadataBytes })),
    }));
    const { refused, unmatched } = readRefusals(reply, sent);
    if (refused.size === 0) {
      // An expected HTTP answer, not a fault in this program: one line for the batch, no stack.
      logger.warn(
        { reason: 'loki_rejected', code: 'E_LOKI_REJECTED', statusCode, reply: cut(reply), entries: batch.length, sampleIds: sampleIds(batch) },
        'Loki rejected a push; batch dropped',
      );
      this.settle(batch, { kind: 'dropped', reason: 'loki_rejected', detail: `HTTP ${statusCode}: ${cut(reply)}` });
      return;
    }
    const byReason = new Map<LokiRefusalReason, Held[]>();
    const stored: Held[] = [];
    batch.forEach((item, i) => {
      const reason = refused.get(i);
      if (reason === undefined) stored.push(item);
      else byReason.set(reason, [...(byReason.get(reason) ?? []), item]);
    });
    logger.warn(
      {
        code: 'E_LOKI_REJECTED',
        statusCode,
        refused: Object.fromEntries([...byReason].map(([reason, items]) => [reason, items.length])),
        stored: stored.length,
        ...(unmatched > 0 ? { unmatchedMessages: unmatched } : {}),
        reply: cut(reply),
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
    const outcomes = batch.map((item, i): [Held, DeliveryOutcome] => {
      const reason = refused.get(i);
      return [item, reason === undefined ? { kind: 'delivered' } : { kind: 'dropped', reason, detail: `Loki refused it (${reason}) with HTTP ${statusCode}` }];
    });
    for (const [item, outcome] of outcomes) this.settle([item], outcome);
  }

  /** Reports one outcome per item, frees their bytes, lets paused producers in and resolves flushes. */
  private settle(items: readonly (Pick<Held, 'occurrenceId' | 'onOutcome'> & Partial<Held>)[], outcome: DeliveryOutcome): void {
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

function sampleIds(batch: readonly Held[]): string[] {
  return batch.slice(0, SAMPLE_IDS).map((item) => item.occurrenceId);
}

function cut(text: string): string {
  return text.length > MAX_DETAIL_CHARS ? text.slice(0, MAX_DETAIL_CHARS) : text;
}

function labelMapOf(labelString: string): LabelMap {
  try {
    return Object.fromEntries(parseLabelString(labelString).labels);
  } catch {
    return {};
  }
}

function statusLabel(result: Exclude<SendResult, { kind: 'aborted' }>): string {
  switch (result.kind) {
    case 'delivered':
    case 'refused':
    case 'too_large':
      return String(result.statusCode);
    case 'retryable':
      return String(result.failure);
  }
}
