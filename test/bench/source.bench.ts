/**
 * Memory of a paged list: 100k events listed through the real source (page 500) against the fake
 * API server, live heap sampled (after a full GC) while every item is handed over. Compared with one unpaged list
 * (limit 0: the whole list in one response), which is what the source avoids.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createEventSource, type SourceDeps } from '../../src/source/index.js';
import { createMetrics } from '../../src/observe/metrics.js';
import { ignoreProgress } from '../../src/core/progress.js';
import { systemClock } from '../../src/core/clock.js';
import pino from 'pino';
import { FakeKubeApiServer } from '../fakes/kube-api-server.js';
import { coreEvent } from '../fakes/kube-events.js';

setFlagsFromString('--expose_gc');
const gc = runInNewContext('gc') as () => void;
const MB = 1024 * 1024;

/** Real time and silent logs; `onItem` sees every item the source hands over. */
function benchDeps(fake: FakeKubeApiServer, onItem: () => void): SourceDeps {
  return {
    kubeConfig: fake.kubeConfig(),
    handler: {
      onItem: () => {
        onItem();
        return Promise.resolve();
      },
      onPosition: () => undefined,
    },
    metrics: createMetrics({ version: 'bench' }),
    logger: pino({ level: 'silent' }),
    clock: systemClock,
    random: Math.random,
    progress: ignoreProgress,
  };
}

async function listAll(fake: FakeKubeApiServer, pageSize: number, total: number): Promise<{ peakMb: number; ms: number }> {
  gc();
  const base = process.memoryUsage().heapUsed;
  let peak = 0;
  let seen = 0;
  const controller = new AbortController();
  const started = performance.now();
  let ms = 0;
  const source = createEventSource(
    { api: 'core/v1', namespaces: [], excludeNamespaces: [], pageSize, initial: { kind: 'all' }, stallTimeoutMs: 60_000, listTimeoutMs: 120_000 },
    benchDeps(fake, () => {
      seen += 1;
      // Live heap (after a full GC) every 5000 items: what the source really holds.
      if (seen % 5000 === 0) {
        gc();
        peak = Math.max(peak, process.memoryUsage().heapUsed - base);
      }
      if (seen === total) {
        ms = performance.now() - started;
        controller.abort();
      }
    }),
  );
  await source.run({}, controller.signal);
  return { peakMb: peak / MB, ms };
}

/** Watch throughput: events created on the fake while the source watches, until all are handed over. */
async function watchThroughput(total: number): Promise<number> {
  const fake = await FakeKubeApiServer.start();
  let seen = 0;
  const controller = new AbortController();
  let finished: () => void = () => undefined;
  const all = new Promise<void>((r) => (finished = r));
  const source = createEventSource(
    { api: 'core/v1', namespaces: [], excludeNamespaces: [], pageSize: 500, initial: { kind: 'none' }, stallTimeoutMs: 60_000, maxQueuedEvents: total + 1 },
    benchDeps(fake, () => {
      if (++seen === total) finished();
    }),
  );
  const running = source.run({}, controller.signal);
  while (fake.openWatches === 0) await new Promise((r) => setTimeout(r, 5));
  const started = performance.now();
  for (let i = 0; i < total; i++) fake.createEvent(coreEvent({ name: `w-${i}` }));
  await all;
  const ms = performance.now() - started;
  controller.abort();
  await running;
  await fake.close();
  return total / (ms / 1000);
}

export default async function bench(): Promise<void> {

  const total = 100_000;
  const fake = await FakeKubeApiServer.start();
  try {
    for (let i = 0; i < total; i++) fake.createEvent(coreEvent({ namespace: `ns-${i % 50}`, name: `ev-${i}`, message: `message number ${i} `.repeat(8) }));
    const paged = await listAll(fake, 500, total);
    const whole = await listAll(fake, 0, total);
    process.stdout.write(`100k events, page 500: peak extra heap ${paged.peakMb.toFixed(1)} MB, ${(paged.ms / 1000).toFixed(2)} s (${Math.round(total / (paged.ms / 1000))} events/s)\n`);
    process.stdout.write(`100k events, unpaged:  peak extra heap ${whole.peakMb.toFixed(1)} MB, ${(whole.ms / 1000).toFixed(2)} s\n`);
    process.stdout.write(`ratio unpaged/paged heap: ${(whole.peakMb / Math.max(paged.peakMb, 0.1)).toFixed(1)}x\n`);
    process.stdout.write('(heap includes the fake API server rendering each page in the same process; times include a forced GC every 5000 items)\n');
  } finally {
    await fake.close();
  }
  const rate = await watchThroughput(20_000);
  process.stdout.write(`watch: 20k events through the real client-node Watch at ${Math.round(rate)} events/s (fake server in the same process)\n`);
}
