/**
 * The stdout sink, for a first run without Loki: each entry's line plus a newline, written to a
 * Writable (process.stdout in production). A write that fills the stream's buffer does not resolve
 * until the stream drains, so a slow reader pauses the producer. An entry is delivered once the
 * stream has taken it (its write callback ran).
 *
 * A stream that fails (EPIPE: the reader went away, as with `| head -1`) is the end of the output:
 * one line is logged, `onOutputClosed` tells the command to stop like a shutdown, and every entry
 * not yet written is dropped with reason `shutdown` (not final, so a checkpoint stays before it).
 */
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { CloseReport, DeliveryOutcome, Entry, EntrySink, OutcomeListener } from '../../core/entry.js';
import type { SinkDeps } from '../deps.js';

export type StdoutSinkDeps = Pick<SinkDeps, 'metrics' | 'logger' | 'clock' | 'progress'> & {
  /** Called once when the stream fails; `readerGone` for EPIPE, the ordinary end of a pipe. */
  readonly onOutputClosed?: (closed: OutputClosed) => void;
};

/** Why the output ended: the reader closed the pipe, or the stream failed otherwise (disk full, EIO…). */
export interface OutputClosed {
  readonly readerGone: boolean;
  readonly code: string | undefined;
}

export function createStdoutSink(out: Writable, deps: StdoutSinkDeps): EntrySink {
  return new StdoutSink(out, deps);
}

class StdoutSink implements EntrySink {
  /** Written, callback not yet run. */
  private readonly pending = new Set<OutcomeListener>();
  private readonly idleWaiters: (() => void)[] = [];
  private drained: Promise<void> | undefined;
  private closing = false;
  private delivered = 0;
  private dropped = 0;
  /** Set by the first stream error: nothing more is written. */
  private failed = false;

  constructor(
    private readonly out: Writable,
    private readonly deps: StdoutSinkDeps,
  ) {
    // Without a listener an EPIPE (reader gone) would crash the process; the write callbacks report it.
    out.on('error', this.onError);
  }

  private readonly onError = (err: Error): void => {
    if (this.failed) return;
    this.failed = true;
    const code = (err as NodeJS.ErrnoException).code;
    const readerGone = code === 'EPIPE';
    // A closed pipe is how a reader like `head` says it has enough: no stack, not an error.
    if (readerGone) this.deps.logger.info({ code }, 'stdout closed by its reader; stopping');
    else this.deps.logger.error({ err }, 'stdout failed; stopping');
    try {
      this.deps.onOutputClosed?.({ readerGone, code });
    } catch (listenerErr) {
      this.deps.logger.error({ err: listenerErr }, 'output-closed listener threw');
    }
  };

  async write(entry: Entry, onOutcome: OutcomeListener): Promise<void> {
    if (this.drained !== undefined) await this.drained;
    if (this.closing || this.failed || this.out.destroyed || this.out.writableEnded) {
      this.report(onOutcome, { kind: 'dropped', reason: 'shutdown', detail: 'output is closed' });
      return;
    }
    if (this.pending.size === 0) this.deps.progress.sinkPending(true);
    this.pending.add(onOutcome);
    const accepted = this.out.write(`${entry.line}\n`, (err) => {
      if (!this.pending.delete(onOutcome)) return; // already reported dropped by close
      if (err) {
        // The callback may run before the stream's 'error' event: stop at the first sign.
        this.onError(err);
        this.report(onOutcome, { kind: 'dropped', reason: 'shutdown', detail: err.message });
      } else this.report(onOutcome, { kind: 'delivered' });
      if (this.pending.size === 0) this.becameIdle();
    });
    if (!accepted) {
      this.drained ??= this.waitForDrain();
      await this.drained;
    }
  }

  flush(): Promise<void> {
    if (this.pending.size === 0) return Promise.resolve();
    return new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  async close(drainTimeoutMs: number): Promise<CloseReport> {
    this.closing = true;
    const timer = new AbortController();
    await Promise.race([this.flush(), this.deps.clock.sleep(drainTimeoutMs, timer.signal).catch(() => undefined)]);
    timer.abort();
    const unwritten = [...this.pending];
    this.pending.clear();
    for (const onOutcome of unwritten) {
      this.report(onOutcome, { kind: 'dropped', reason: 'shutdown', detail: 'not written before the drain timeout' });
    }
    if (unwritten.length > 0) this.becameIdle();
    // The error listener stays: an EPIPE that surfaces after close must not crash the process either.
    return { delivered: this.delivered, dropped: this.dropped };
  }

  private async waitForDrain(): Promise<void> {
    // A stream that errors or closes never drains; the pending write callbacks report those entries.
    const stop = new AbortController();
    try {
      await Promise.race([once(this.out, 'drain', { signal: stop.signal }), once(this.out, 'close', { signal: stop.signal })]);
    } catch {
      // 'error' while waiting rejects once(); the entry's write callback reports it.
    } finally {
      stop.abort();
      this.drained = undefined;
    }
  }

  private becameIdle(): void {
    this.deps.progress.sinkPending(false);
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private report(onOutcome: OutcomeListener, outcome: DeliveryOutcome): void {
    const { metrics, logger, progress } = this.deps;
    if (outcome.kind === 'delivered') {
      this.delivered += 1;
      metrics.eventsShipped.inc();
      progress.sinkDelivered();
    } else {
      this.dropped += 1;
      metrics.eventsDropped.inc({ reason: outcome.reason });
    }
    try {
      onOutcome(outcome);
    } catch (err) {
      logger.error({ err }, 'outcome listener threw');
    }
  }
}
