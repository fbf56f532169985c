/**
 * `--queue-max-bytes` bounds real memory: with Loki not answering, the sink fills its queue up to
 * the cap and pauses the producer; what then survives a full garbage collection (heap and buffers)
 * must be about the cap, not a multiple of it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import v8 from 'node:v8';
import vm from 'node:vm';
import { pino } from 'pino';
import { systemClock } from '../../src/core/clock.js';
import type { Entry } from '../../src/core/entry.js';
import { ignoreProgress } from '../../src/core/progress.js';
import { createMetrics } from '../../src/observe/metrics.js';
import { createLokiSink } from '../../src/sink/loki/loki-sink.js';
import { startFakeLoki } from '../fakes/loki-receiver.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const REASONS = ['Scheduled', 'Pulled', 'Created', 'Started', 'BackOff', 'Killing', 'FailedScheduling', 'Unhealthy'];
const NOW_NS = BigInt(Date.now()) * 1_000_000n;

/** An entry as the transform makes one: fresh strings and objects per event, as parsed from JSON. */
function makeEntry(i: number): Entry {
  const reason = REASONS[i % REASONS.length] ?? 'Started';
  const ns = `team-${i % 6}`;
  const name = `web-7d9f8b6c5-${i.toString(36)}`;
  const uid = `6c0e3c1d-${i.toString(16).padStart(4, '0')}-4a8e-9b1f-2f0d9e7c1a55`;
  return {
    labels: { job: 'kube-event-shipper', cluster: 'prod-eu', namespace: ns, reason, type: i % 5 === 0 ? 'Warning' : 'Normal', kind: 'Pod', source: 'kubelet' },
    timestampNs: NOW_NS + BigInt(i) * 1_234_567n,
    line: `kind=Pod namespace=${ns} name=${name} reason=${reason} type=Normal count=${(i % 9) + 1} msg="Container image \\"registry.example.com/web:1.${i % 40}.0\\" already present on machine" source=kubelet host=node-${i % 30} event_uid=${uid}`,
    structuredMetadata: { object_name: name, object_uid: `0f1e2d3c-${i}-4b5a-8c7d-6e5f4a3b2c1d`, node: `node-${i % 30}`, event_uid: uid },
    occurrenceId: `${uid}:${(i % 9) + 1}:${NOW_NS + BigInt(i)}`,
  };
}

const retained = (): number => {
  // Twice: buffers whose owners the first collection freed are released only by the next one.
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};

describe('the Loki sink queue cap', { timeout: 120_000 }, () => {
  it('holds about --queue-max-bytes of real memory (heap and buffers) while Loki does not answer', async () => {
    const cap = 8 * 1024 * 1024;
    const loki = await startFakeLoki({ discardEntries: true });
    const sink = createLokiSink(
      { url: loki.url, queueMaxBytes: cap, batchMaxBytes: 1024 * 1024, batchMaxWaitMs: 50, timeoutMs: 600_000 },
      { metrics: createMetrics({ version: 'test' }), logger: pino({ level: 'silent' }), clock: systemClock, random: Math.random, progress: ignoreProgress },
    );
    // What the pipeline keeps per entry in flight: its id in a set, removed by the outcome callback.
    const inflight = new Set<string>();
    // Warm up: the code paths of a push are compiled (bytecode lives on the heap too), and full-size
    // batches have grown the sink's encode space, which it keeps from batch to batch (a fixed cost of
    // about one batch, not held per queued entry), before measuring.
    for (let i = 0; i < 6_000; i++) await sink.write(makeEntry(1_000_000 + i), () => undefined);
    await sink.flush();
    loki.setDefaultReply({ hang: true });
    const before = retained();
    let written = 0;
    let blocked: Promise<void> | undefined;
    try {
      for (; written < 200_000; written++) {
        const e = makeEntry(written);
        const id = e.occurrenceId;
        inflight.add(id);
        const accepted = sink.write(e, () => inflight.delete(id));
        const full = await Promise.race([accepted.then(() => false), new Promise<boolean>((resolve) => setImmediate(() => resolve(true)))]);
        if (full) {
          blocked = accepted;
          break;
        }
      }
      assert.ok(blocked !== undefined, 'the queue filled and paused the producer');
      const held = retained() - before;
      const ratio = held / cap;
      assert.ok(ratio <= 1.3, `${(held / 1024 / 1024).toFixed(1)} MiB held at a cap of 8 MiB (${ratio.toFixed(2)} × the cap), ${written} entries`);
      // Not wildly over-counted either: the cap lets in about what it says.
      assert.ok(ratio >= 0.6, `${(held / 1024 / 1024).toFixed(1)} MiB held at a cap of 8 MiB (${ratio.toFixed(2)} × the cap), ${written} entries`);
    } finally {
      await sink.close(0);
      await loki.close();
      await blocked;
    }
  });
});
