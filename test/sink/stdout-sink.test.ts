import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import type { DeliveryOutcome } from '../../src/core/entry.js';
import { ignoreProgress } from '../../src/core/progress.js';
import { createMetrics } from '../../src/observe/metrics.js';
import { createStdoutSink } from '../../src/sink/stdout/stdout-sink.js';
import { entry } from './harness.js';
import { metricValue } from '../support/metrics.js';
import { until } from '../support/wait.js';
import { ManualClock } from '../support/manual-clock.js';

/** A Writable that keeps what it got and completes each write only when the test says so. */
function heldWritable(highWaterMark: number): { out: Writable; written: string[]; release(): void; fail(err: Error): void } {
  const written: string[] = [];
  const callbacks: ((err?: Error | null) => void)[] = [];
  const out = new Writable({
    highWaterMark,
    write(chunk: Buffer, _encoding, done) {
      written.push(chunk.toString('utf8'));
      callbacks.push(done);
    },
  });
  return {
    out,
    written,
    release: () => {
      for (const done of callbacks.splice(0)) done();
    },
    fail: (err) => {
      for (const done of callbacks.splice(0)) done(err);
    },
  };
}

function deps() {
  return { metrics: createMetrics({ version: 'test' }), logger: pino({ level: 'silent' }), clock: new ManualClock(), progress: ignoreProgress };
}

describe('stdout sink', { timeout: 20_000 }, () => {
  it('each entry is its line plus a newline, delivered once the stream took it', async () => {
    const chunks: string[] = [];
    const out = new Writable({
      write(chunk: Buffer, _encoding, done) {
        chunks.push(chunk.toString('utf8'));
        done();
      },
    });
    const d = deps();
    const sink = createStdoutSink(out, d);
    const outcomes: DeliveryOutcome[] = [];
    await sink.write(entry(1), (o) => outcomes.push(o));
    await sink.write(entry(2, { line: 'ünïcode ✓' }), (o) => outcomes.push(o));
    await sink.flush();
    assert.deepEqual(chunks, [`${entry(1).line}\n`, 'ünïcode ✓\n']);
    assert.deepEqual(outcomes, [{ kind: 'delivered' }, { kind: 'delivered' }]);
    assert.deepEqual(await sink.close(1_000), { delivered: 2, dropped: 0 });
    assert.equal(await metricValue(d.metrics, 'kube_event_shipper_events_shipped_total'), 2);
  });

  it('a full stream pauses the producer until it drains', async () => {
    const held = heldWritable(8);
    const sink = createStdoutSink(held.out, deps());
    const outcomes: DeliveryOutcome[] = [];
    let resolved = false;
    const writing = sink.write(entry(1), (o) => outcomes.push(o)).then(() => {
      resolved = true;
    });
    await until(() => held.written.length === 1, 'the write to reach the stream');
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(resolved, false, 'the write waits for drain');
    assert.deepEqual(outcomes, []);
    held.release();
    await writing;
    assert.deepEqual(outcomes, [{ kind: 'delivered' }]);
    await sink.close(0);
  });

  it('a stream that fails reports its entries dropped and does not crash', async () => {
    const held = heldWritable(1024);
    const sink = createStdoutSink(held.out, deps());
    const outcomes: DeliveryOutcome[] = [];
    await sink.write(entry(1), (o) => outcomes.push(o));
    held.fail(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
    await sink.flush();
    assert.equal(outcomes.length, 1);
    assert.equal(outcomes[0]?.kind === 'dropped' && outcomes[0].reason, 'shutdown');
    await sink.write(entry(2), (o) => outcomes.push(o));
    assert.equal(outcomes[1]?.kind === 'dropped' && outcomes[1].reason, 'shutdown', 'a destroyed stream takes nothing more');
    assert.deepEqual(await sink.close(0), { delivered: 0, dropped: 2 });
  });

  it('a failing stream ends the output once: EPIPE as the reader going away, anything else as a failure', async () => {
    for (const [code, readerGone] of [['EPIPE', true], ['EIO', false]] as const) {
      const held = heldWritable(1024);
      const closed: { readerGone: boolean; code: string | undefined }[] = [];
      const sink = createStdoutSink(held.out, { ...deps(), onOutputClosed: (c) => closed.push(c) });
      const outcomes: DeliveryOutcome[] = [];
      await sink.write(entry(1), (o) => outcomes.push(o));
      await sink.write(entry(2), (o) => outcomes.push(o));
      held.fail(Object.assign(new Error(`write ${code}`), { code }));
      await sink.flush();
      assert.deepEqual(closed, [{ readerGone, code }], code);
      const before = held.written.length;
      await sink.write(entry(3), (o) => outcomes.push(o));
      assert.equal(held.written.length, before, 'nothing more is written to a failed stream');
      assert.deepEqual(
        outcomes.map((o) => o.kind === 'dropped' && o.reason),
        ['shutdown', 'shutdown', 'shutdown'],
      );
      await sink.close(0);
    }
  });

  it('close reports what the stream did not take before the drain timeout as dropped(shutdown)', async () => {
    const held = heldWritable(1024);
    const d = deps();
    const sink = createStdoutSink(held.out, d);
    const outcomes: DeliveryOutcome[] = [];
    await sink.write(entry(1), (o) => outcomes.push(o));
    const closing = sink.close(500);
    await until(() => d.clock.pending === 1, 'the drain deadline');
    d.clock.advance(500);
    assert.deepEqual(await closing, { delivered: 0, dropped: 1 });
    held.release();
    assert.equal(outcomes.length, 1, 'a late callback does not report twice');
  });
});
