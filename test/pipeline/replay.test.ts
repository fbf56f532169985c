import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { replay } from '../../src/pipeline/replay.js';
import { ignoreProgress } from '../../src/core/progress.js';
import { createMetrics } from '../../src/observe/metrics.js';
import { createStdoutSink } from '../../src/sink/stdout/index.js';
import type { CloseReport, Entry, EntrySink, OutcomeListener } from '../../src/core/entry.js';
import { createTransformer, resolveTransformOptions } from '../../src/transform/index.js';
import { fixturePath } from '../support/fixtures.js';
import { ManualClock, steppingClock } from '../support/manual-clock.js';
import { metricValue } from '../support/metrics.js';

class Collect extends Writable {
  readonly chunks: string[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.chunks.push(chunk.toString());
    done();
  }
  lines(): string[] {
    return this.chunks.join('').split('\n').filter((l) => l !== '');
  }
}

describe('replay (in process)', () => {
  it('prints a progress line as time passes and a summary at the end', async () => {
    // Every reading of the time moves it on by one second, so progress is due every few events.
    const clock = steppingClock(1_764_000_000_000, 1000);
    const metrics = createMetrics({ version: 't' });
    const logger = pino({ level: 'silent' });
    const out = new Collect();
    const progress = new Collect();
    const summary = await replay(
      createReadStream(fixturePath('events/watch-core-v1.jsonl')),
      {
        transformer: createTransformer(resolveTransformOptions({}), { now: () => Date.now() }),
        sink: createStdoutSink(out, { metrics, logger, clock, progress: ignoreProgress }),
        logger,
        metrics,
        clock,
        progressOut: progress,
        progressEveryMs: 10_000,
        drainTimeoutMs: 1000,
        sortByTime: false,
      },
      new AbortController().signal,
    );
    assert.equal(summary.interrupted, false);
    assert.equal(summary.dropped, 0);
    assert.equal(summary.delivered, out.lines().length);
    assert.ok(summary.duplicates > 0, 'the watch corpus repeats an occurrence (metadata-only update)');
    assert.ok(summary.skipped > 0, 'and deletes one');
    const lines = progress.lines();
    assert.ok(lines.length >= 3, `progress lines: ${lines.length}`);
    assert.match(lines[0] ?? '', /^replay: \d+ events read, \d+ delivered/);
    assert.equal(
      lines.at(-1),
      `replay done: ${summary.events} events read, ${summary.delivered} delivered, 0 dropped, 0 malformed, ${summary.duplicates} duplicates, ${summary.skipped} skipped`,
    );
    assert.equal(await metricValue(metrics, 'kube_event_shipper_events_shipped_total'), summary.delivered);
  });

  it('after a stop signal, a write the full sink does not take is waited for half the drain budget, then the rest is left', async () => {
    /** Takes the first `room` entries at once; every later write waits until close. */
    class FullSink implements EntrySink {
      readonly written: Entry[] = [];
      private readonly held: { onOutcome: OutcomeListener; resolve: () => void }[] = [];
      /** Resolves when the first write is held. */
      readonly full: Promise<void>;
      private onFull: () => void = () => undefined;
      constructor(private readonly room: number) {
        this.full = new Promise<void>((resolve) => (this.onFull = resolve));
      }
      write(entry: Entry, onOutcome: OutcomeListener): Promise<void> {
        this.written.push(entry);
        if (this.written.length <= this.room) {
          onOutcome({ kind: 'delivered' });
          return Promise.resolve();
        }
        this.onFull();
        return new Promise<void>((resolve) => this.held.push({ onOutcome, resolve }));
      }
      flush(): Promise<void> {
        return new Promise<void>(() => undefined); // never: the queue stays full
      }
      close(): Promise<CloseReport> {
        for (const h of this.held.splice(0)) {
          h.onOutcome({ kind: 'dropped', reason: 'shutdown' });
          h.resolve();
        }
        return Promise.resolve({ delivered: this.room, dropped: this.written.length - this.room });
      }
    }
    const clock = new ManualClock({ startMs: 1_764_000_000_000 });
    const metrics = createMetrics({ version: 't' });
    const logger = pino({ level: 'silent' });
    const sink = new FullSink(3);
    const stop = new AbortController();
    const drainTimeoutMs = 10_000;
    const running = replay(
      createReadStream(fixturePath('events/watch-core-v1.jsonl')),
      {
        transformer: createTransformer(resolveTransformOptions({}), { now: () => Date.now() }),
        sink,
        logger,
        metrics,
        clock,
        progressOut: new Collect(),
        progressEveryMs: 10_000,
        drainTimeoutMs,
        sortByTime: true,
      },
      stop.signal,
    );
    const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
    await sink.full;
    assert.equal(sink.written.length, 4, 'three entries taken, the fourth waits');
    stop.abort();
    for (let i = 0; i < 20; i++) await turn();
    assert.equal(sink.written.length, 4, 'still waiting on the fourth: nothing more is written');
    clock.advance(drainTimeoutMs / 2 - 1);
    for (let i = 0; i < 20; i++) await turn();
    let ended = false;
    void running.then(() => (ended = true));
    for (let i = 0; i < 20; i++) await turn();
    assert.equal(ended, false, 'not before half the drain budget');
    clock.advance(1);
    const summary = await running;
    assert.equal(summary.interrupted, true);
    assert.equal(sink.written.length, 4, 'the entries after the one not taken were left');
    assert.equal(summary.delivered, 3);
    assert.equal(summary.dropped, 1);
  });
});
