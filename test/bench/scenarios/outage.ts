/**
 * Scenario 5, Loki outage: the receiver answers 503 for 60 s while 2,000 events/s appear on the
 * API server, then accepts again. RSS is sampled throughout (it must stay under
 * --queue-max-bytes + 50 MiB), the watch must be paused by backpressure (events left unread at
 * the API server when the outage ends), and after recovery every event must be accepted exactly
 * once (distinct event_uid values at the receiver). Run with Node's defaults and again under the
 * Deployment's NODE_OPTIONS.
 */
import { BenchApiServer } from '../lib/api-server.js';
import { sleep, waitUntil } from '../lib/child.js';
import type { BenchContext } from '../lib/context.js';
import { BenchLoki } from '../lib/loki.js';
import { Producer } from '../lib/producer.js';
import { atLeast, atMost } from '../lib/report.js';
import { childEnv, spawnRun } from '../lib/shipper.js';
import { readMetrics } from '../../support/metrics.js';
import { closedPort } from '../../support/net.js';

const RATE = 2_000;

/** One metric's value (summed over the series matching `selector`; 0 before it exists), or NaN when the scrape fails. */
async function scrape(port: number, selector: string): Promise<number> {
  try {
    return (await readMetrics(`http://127.0.0.1:${port}/metrics`)).sum(selector);
  } catch {
    return NaN;
  }
}

/** With Node's defaults, then with the Deployment's NODE_OPTIONS (its heap settings decide how much garbage RSS carries). */
export async function outage(ctx: BenchContext): Promise<void> {
  await outageOnce(ctx, '', undefined);
  await outageOnce(ctx, ` (NODE_OPTIONS=${ctx.deploy.nodeOptions})`, childEnv({ NODE_OPTIONS: ctx.deploy.nodeOptions }));
}

async function outageOnce(ctx: BenchContext, label: string, env: NodeJS.ProcessEnv | undefined): Promise<void> {
  const outageMs = ctx.quick ? 20_000 : 60_000;
  // Small enough that the outage fills it (2,000 events/s × ~0.7 KB per entry is ~1.4 MiB/s).
  const QUEUE_MAX_MB = ctx.quick ? 16 : 32;
  const server = await BenchApiServer.start();
  const loki = await BenchLoki.start({ collectIds: true });
  const port = await closedPort();
  const child = spawnRun(ctx, server.writeKubeconfig(ctx.tmp), loki.url, ['--queue-max-bytes', `${QUEUE_MAX_MB}MiB`, '--listen', `127.0.0.1:${port}`], env, 250);
  try {
    await waitUntil(() => server.openWatches > 0 || child.process.exitCode !== null, 60_000, 'run to open its watch');
    if (child.process.exitCode !== null) throw new Error(`run exited: ${child.stderr.slice(-2000)}`);
    await sleep(1_000);
    const before = child.measure();
    const from = child.rssSeries.length;
    loki.status = 503;
    const producer = new Producer(server);
    await producer.run(RATE, outageMs);
    const unread = server.events - server.sent;
    const queueBytes = await scrape(port, 'kube_event_shipper_queue_bytes');
    const backpressureRestarts = await scrape(port, 'kube_event_shipper_watch_restarts_total{reason="backpressure"}');
    loki.status = 204;
    const recoveryStart = performance.now();
    await waitUntil(() => loki.ids.size >= producer.produced || child.process.exitCode !== null, 300_000, `all ${producer.produced} events after recovery (${loki.ids.size} so far)`, 100);
    const recoveryS = (performance.now() - recoveryStart) / 1000;
    await sleep(2_000); // anything sent twice arrives now
    const after = child.measure();
    const maxRss = Math.max(after.rssMb, ...child.rssSeries.slice(from).map((s) => s.rssMb));
    let accepted = 0;
    for (const n of loki.ids.values()) accepted += n;
    const distinct = loki.ids.size;
    const duplicates = accepted - distinct;
    const missing = producer.produced - distinct;
    const scenario = `outage: Loki 503 for ${outageMs / 1000} s at ${RATE} events/s, --queue-max-bytes ${QUEUE_MAX_MB}MiB${label}`;
    ctx.report({
      scenario,
      figure: 'largest RSS sampled (outage and recovery)',
      measured: { value: maxRss, unit: 'MiB' },
      reference: { value: before.rssMb, unit: 'MiB', what: 'same process before the outage' },
      target: atMost(maxRss, QUEUE_MAX_MB + 50, `≤ queue + 50 = ${QUEUE_MAX_MB + 50} MiB`),
      note: `VmHWM ${after.peakRssMb.toFixed(0)} MiB; queue_bytes at the end of the outage ${(queueBytes / 1048576).toFixed(1)} MiB`,
    });
    ctx.report({
      scenario,
      figure: 'events left unread at the API server when the outage ends',
      measured: { value: unread, unit: 'events' },
      target: atLeast(unread, 1, '> 0 (watch paused by backpressure)'),
      note: `${producer.produced} produced; watch restarts for backpressure: ${backpressureRestarts}; ${server.watchRequests} watch requests`,
    });
    ctx.report({
      scenario,
      figure: 'events lost or delivered twice after recovery',
      measured: { value: missing + duplicates, unit: 'events' },
      target: atMost(missing + duplicates, 0, '= 0 (exactly once)'),
      note: `${distinct}/${producer.produced} delivered, ${duplicates} duplicates, ${missing} missing; recovery took ${recoveryS.toFixed(1)} s; ${loki.refusedPushes} pushes refused`,
    });
  } finally {
    await child.stop();
    await loki.close();
    await server.close();
  }
}
