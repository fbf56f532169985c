/**
 * Sink benchmarks (`npm run bench sink`):
 * 1. encode + snappy-compress throughput of our hand-driven protobufjs Writer against protobufjs
 *    reflection over the same push.proto (entries/s, MB/s of protobuf, ratio). Measured on
 *    protobufjs 8 the two are about even (its reflection compiles an encoder much like ours); the
 *    hand path's gain is that it needs no intermediate message objects, not raw speed;
 * 2. peak memory while a slow fake Loki backs up the queue, showing that the byte cap holds.
 */
import { dirname, resolve } from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { pino } from 'pino';
import snappy from 'snappyjs';
import { systemClock } from '../../src/core/clock.js';
import type { Entry } from '../../src/core/entry.js';
import { ignoreProgress } from '../../src/core/progress.js';
import { createMetrics } from '../../src/observe/metrics.js';
import { encodePushBody, encodePushRequest, type PushStream } from '../../src/sink/loki/codec.js';
import { createLokiSink } from '../../src/sink/loki/loki-sink.js';
import { startFakeLoki } from '../fakes/loki-receiver.js';

const protoPath = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'sink', 'loki', 'push.proto');
const PushRequest = protobuf.loadSync(protoPath).lookupType('logproto.PushRequest');

const NOW_NS = BigInt(Date.now() - 60 * 60_000) * 1_000_000n;
const REASONS = ['Scheduled', 'Pulled', 'Created', 'Started', 'BackOff', 'Killing', 'FailedScheduling', 'Unhealthy'];

function makeEntry(i: number): Entry {
  const reason = REASONS[i % REASONS.length] ?? 'Started';
  const ns = `team-${i % 6}`;
  return {
    labels: { job: 'kube-event-shipper', cluster: 'prod-eu', namespace: ns, reason, type: i % 5 === 0 ? 'Warning' : 'Normal', kind: 'Pod', source: 'kubelet' },
    // Recent: the fake Loki refuses entries older than 7 days, as Loki does.
    timestampNs: NOW_NS + BigInt(i) * 1_234_567n,
    line: `kind=Pod namespace=${ns} name=web-7d9f8b6c5-${i.toString(36)} reason=${reason} type=Normal count=${(i % 9) + 1} msg="Container image \\"registry.example.com/web:1.${i % 40}.0\\" already present on machine" first_seen=2026-11-26T10:16:39Z last_seen=2026-11-26T10:16:39Z source=kubelet host=node-${i % 30}`,
    structuredMetadata: { object_name: `web-7d9f8b6c5-${i.toString(36)}`, object_uid: `6c0e3c1d-${i.toString(16).padStart(4, '0')}-4a8e-9b1f-2f0d9e7c1a55`, node: `node-${i % 30}`, event_uid: `e1f0-${i}` },
    occurrenceId: `occ-${i}`,
  };
}

function toStreams(entries: readonly Entry[]): PushStream[] {
  const byLabels = new Map<string, Entry[]>();
  for (const e of entries) {
    const key = JSON.stringify(Object.entries(e.labels).sort());
    const list = byLabels.get(key) ?? [];
    list.push(e);
    byLabels.set(key, list);
  }
  return [...byLabels.values()].map((list) => ({
    labels: `{${Object.entries(list[0]?.labels ?? {}).sort().map(([k, v]) => `${k}="${v}"`).join(', ')}}`,
    entries: list.map((e) => ({ timestampNs: e.timestampNs, line: e.line, structuredMetadata: e.structuredMetadata })),
  }));
}

/** Reflection: build message objects from the same streams and let protobufjs encode them. */
function encodeByReflection(streams: readonly PushStream[]): Uint8Array {
  const message = PushRequest.fromObject({
    streams: streams.map((s) => ({
      labels: s.labels,
      entries: s.entries.map((e) => ({
        timestamp: { seconds: Number(e.timestampNs / 1_000_000_000n), nanos: Number(e.timestampNs % 1_000_000_000n) },
        line: e.line,
        structuredMetadata: Object.entries(e.structuredMetadata).map(([name, value]) => ({ name, value })),
      })),
    })),
  });
  return snappy.compress(PushRequest.encode(message).finish());
}

function measure(name: string, batches: readonly PushStream[][], entriesPerBatch: number, protoBytes: number, encode: (s: readonly PushStream[]) => Uint8Array): number {
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    const start = process.hrtime.bigint();
    for (const batch of batches) encode(batch);
    best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e9);
  }
  const entries = batches.length * entriesPerBatch;
  const rate = entries / best;
  process.stdout.write(`${name.padEnd(28)} ${Math.round(rate).toLocaleString('en').padStart(12)} entries/s  ${((protoBytes * batches.length) / best / 1e6).toFixed(1).padStart(7)} MB/s of protobuf\n`);
  return rate;
}

function throughput(): void {
  const entriesPerBatch = 1_000;
  const batches = Array.from({ length: 40 }, (_, b) => toStreams(Array.from({ length: entriesPerBatch }, (_, i) => makeEntry(b * entriesPerBatch + i))));
  const first = batches[0] ?? [];
  const protoBytes = encodePushRequest(first).length;
  const compressed = encodePushBody(first).length;
  process.stdout.write(`batch: ${entriesPerBatch} entries in ${first.length} streams, ${protoBytes} B protobuf → ${compressed} B snappy (${(protoBytes / compressed).toFixed(1)}x)\n`);
  // Alternate the two so warm-up and garbage collection do not favour whichever runs second.
  let fast = 0;
  let reflection = 0;
  for (let round = 0; round < 3; round++) {
    reflection = Math.max(reflection, measure('protobufjs reflection', batches, entriesPerBatch, protoBytes, encodeByReflection));
    fast = Math.max(fast, measure('fast path (Writer by hand)', batches, entriesPerBatch, protoBytes, encodePushBody));
  }
  process.stdout.write(`ratio fast / reflection: ${(fast / reflection).toFixed(2)}x\n`);
}

/** A real `gc()` even without --expose-gc, so retained memory can be told from garbage. */
function exposeGc(): () => void {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}

async function memoryUnderBackpressure(queueMaxBytes: number, gc: () => void): Promise<void> {
  const loki = await startFakeLoki({ discardEntries: true });
  loki.setDefaultReply({ status: 204, delayMs: 40 });
  const metrics = createMetrics({ version: 'bench' });
  const sink = createLokiSink(
    { url: loki.url, queueMaxBytes, batchMaxBytes: 512 * 1024 },
    { metrics, logger: pino({ level: 'silent' }), clock: systemClock, random: Math.random, progress: ignoreProgress },
  );
  gc();
  const baseline = process.memoryUsage();
  let peakRetained = 0;
  let peakQueue = 0;
  const total = 60_000;
  let writtenBytes = 0;
  const start = Date.now();
  for (let i = 0; i < total; i++) {
    const e = makeEntry(i);
    writtenBytes += e.line.length;
    await sink.write(e, () => undefined);
    if (i % 100 === 0) peakQueue = Math.max(peakQueue, (await metrics.queueBytes.get()).values[0]?.value ?? 0);
    if (i % 2_000 === 1_999) {
      // While the queue is backed up: what survives a full collection is what the sink holds.
      gc();
      const m = process.memoryUsage();
      peakRetained = Math.max(peakRetained, m.heapUsed + m.arrayBuffers - baseline.heapUsed - baseline.arrayBuffers);
    }
  }
  await sink.flush();
  const seconds = (Date.now() - start) / 1000;
  await sink.close(1_000);
  const received = loki.requests.filter((r) => r.answer === 204).reduce((n, r) => n + r.entryCount, 0);
  await loki.close();
  const mb = (n: number): string => `${(n / 1024 / 1024).toFixed(1)} MiB`;
  process.stdout.write(
    `queue cap ${mb(queueMaxBytes)}, slow receiver (40 ms per push): ${total} entries (${mb(writtenBytes)} of lines) in ${seconds.toFixed(1)} s, ${received} received\n` +
      `  peak queue_bytes ${mb(peakQueue)} (${peakQueue <= queueMaxBytes ? 'cap held' : 'CAP EXCEEDED'}); ` +
      `peak memory retained after gc while backed up: ${mb(peakRetained)} above baseline\n`,
  );
}

export default async function run(): Promise<void> {
  throughput();
  const gc = exposeGc();
  await memoryUnderBackpressure(4 * 1024 * 1024, gc);
  await memoryUnderBackpressure(16 * 1024 * 1024, gc);
}
