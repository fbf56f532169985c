/**
 * Scenario 2, initial list: `run --initial all` on a first start over N existing events, listed in
 * pages of 500 (the default), for growing N. Peak RSS must stay under the target and must not grow
 * with N: the slope of peak RSS over N (least squares) is printed per 10k events. Once with Node's
 * defaults and once with the Deployment's NODE_OPTIONS.
 */
import { join } from 'node:path';
import { BenchApiServer } from '../lib/api-server.js';
import type { BenchContext } from '../lib/context.js';
import { writeEventFile } from '../lib/events.js';
import { BenchLoki } from '../lib/loki.js';
import { atMost } from '../lib/report.js';
import { bareNodeRss, childEnv, measureFloor, spawnRun, type FloorResult } from '../lib/shipper.js';
import type { ProcSnapshot } from '../lib/child.js';

const PEAK_RSS_TARGET_MB = 120;
/** "Does not grow": at most this many MiB more per 10k more events (noise in peak RSS is a few MiB). */
const SLOPE_TARGET_MB_PER_10K = 1;

function slope(points: readonly { x: number; y: number }[]): number {
  const n = points.length;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  const sxy = points.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0);
  const sxx = points.reduce((s, p) => s + (p.x - mx) ** 2, 0);
  return sxx === 0 ? 0 : sxy / sxx;
}

export async function initial(ctx: BenchContext): Promise<void> {
  const sizes = ctx.quick ? [5_000, 10_000, 20_000] : [25_000, 50_000, 100_000];
  const largest = sizes[sizes.length - 1]!;
  const file = join(ctx.tmp, `initial-${largest}.jsonl`);
  writeEventFile(file, largest, 5 * 60 * 60_000);
  const floor = await measureFloor(file, largest);
  const bare = await bareNodeRss();
  await initialWith(ctx, { file, sizes, floor, bare }, '', childEnv());
  await initialWith(ctx, { file, sizes, floor, bare }, ` (NODE_OPTIONS=${ctx.deploy.nodeOptions})`, childEnv({ NODE_OPTIONS: ctx.deploy.nodeOptions }));
}

interface InitialInput {
  readonly file: string;
  readonly sizes: readonly number[];
  readonly floor: FloorResult;
  readonly bare: ProcSnapshot;
}

async function initialWith(ctx: BenchContext, input: InitialInput, label: string, env: NodeJS.ProcessEnv): Promise<void> {
  const { file, sizes, floor, bare } = input;
  const largest = sizes[sizes.length - 1]!;
  const points: { x: number; y: number }[] = [];
  for (const n of sizes) {
    const server = await BenchApiServer.start();
    server.loadFile(file, n);
    server.listed = n;
    const loki = await BenchLoki.start();
    const child = spawnRun(ctx, server.writeKubeconfig(ctx.tmp), loki.url, ['--initial', 'all'], env);
    try {
      const failed = child.exitCode.then((code) => {
        throw new Error(`run exited with ${code} (${loki.acceptedEntries}/${n} delivered): ${child.stderr.slice(-2000)}`);
      });
      await Promise.race([loki.waitForEntries(n, 60_000 + 2 * n), failed]);
      const snap = child.measure();
      points.push({ x: n, y: snap.peakRssMb });
      const scenario = `initial list ${n / 1000}k (--initial all, pages of 500)${label}`;
      ctx.report({
        scenario,
        figure: 'peak RSS (VmHWM)',
        measured: { value: snap.peakRssMb, unit: 'MiB' },
        reference: { value: bare.rssMb, unit: 'MiB', what: 'bare node' },
        target: atMost(snap.peakRssMb, PEAK_RSS_TARGET_MB, `≤ ${PEAK_RSS_TARGET_MB} MiB`),
        note: `${server.listRequests} list requests`,
      });
      if (n === largest) {
        const rate = n / snap.wallS;
        ctx.report({ scenario, figure: 'throughput (start to last entry accepted)', measured: { value: rate, unit: 'events/s' }, reference: { value: floor.eventsPerS, unit: 'events/s', what: 'floor' }, note: `${snap.wallS.toFixed(1)} s` });
        ctx.report({ scenario, figure: 'CPU time (user+system)', measured: { value: snap.cpuS, unit: 'CPU-s' }, reference: { value: floor.cpuS, unit: 'CPU-s', what: 'floor' } });
      }
    } finally {
      await child.stop();
      await loki.close();
      await server.close();
    }
  }
  const perTenK = slope(points) * 10_000;
  ctx.report({
    scenario: `initial list ${sizes.map((s) => s / 1000).join('k/')}k${label}`,
    figure: 'growth of peak RSS with the number of events',
    measured: { value: perTenK, unit: 'MiB per 10k events' },
    target: atMost(perTenK, SLOPE_TARGET_MB_PER_10K, `≤ ${SLOPE_TARGET_MB_PER_10K} MiB per 10k (flat)`),
    note: points.map((p) => `${p.x / 1000}k: ${p.y.toFixed(0)} MiB`).join(', '),
  });
}
