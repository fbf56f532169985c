import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { replay } from '../../src/pipeline/replay.js';
import { ignoreProgress } from '../../src/core/progress.js';
import { createMetrics } from '../../src/observe/metrics.js';
import { createStdoutSink } from '../../src/sink/stdout/index.js';
import { createTransformer, resolveTransformOptions } from '../../src/transform/index.js';
import { fixturePath } from '../support/fixtures.js';
import { steppingClock } from '../support/manual-clock.js';
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
});
