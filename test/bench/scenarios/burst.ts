/**
 * Scenario 1, burst: N realistic events through `replay` (file path) and `run` (watch path: an
 * empty list, then one watch streaming all of them as fast as the shipper reads), into a receiver
 * that accepts everything; once with Node's defaults and once with the Deployment's NODE_OPTIONS.
 * Measured when the receiver has accepted the last entry (the process is still alive then).
 */
import { join } from 'node:path';
import { BenchApiServer } from '../lib/api-server.js';
import type { BenchContext } from '../lib/context.js';
import { writeEventFile } from '../lib/events.js';
import { BenchLoki } from '../lib/loki.js';
import { atLeast, atMost } from '../lib/report.js';
import { bareNodeRss, childEnv, measureFloor, spawnReplay, spawnRun, type FloorResult } from '../lib/shipper.js';
import type { MeasuredChild, ProcSnapshot } from '../lib/child.js';

const PEAK_RSS_TARGET_MB = 120;

/** The child's snapshot once `events` entries are accepted, and the harness's own CPU meanwhile (is the harness the bottleneck?). */
async function measureUntilDelivered(child: MeasuredChild, loki: BenchLoki, events: number): Promise<ProcSnapshot & { harnessCpuS: number }> {
  const cpu0 = process.cpuUsage();
  const failed = child.exitCode.then((code) => {
    throw new Error(`shipper exited with ${code} before delivering everything (${loki.acceptedEntries}/${events}); stderr tail:\n${child.stderr.slice(-2000)}`);
  });
  await Promise.race([loki.waitForEntries(events, 60_000 + events), failed]);
  const snap = child.measure();
  const cpu = process.cpuUsage(cpu0);
  return { ...snap, harnessCpuS: (cpu.user + cpu.system) / 1e6 };
}

export async function burst(ctx: BenchContext): Promise<void> {
  const events = ctx.quick ? 50_000 : 200_000;
  const file = join(ctx.tmp, `burst-${events}.jsonl`);
  const bytes = writeEventFile(file, events);
  ctx.log(`burst: ${events} events, ${(bytes / 1024 / 1024).toFixed(0)} MiB, ${Math.round(bytes / events)} B per watch line`);
  const floor = await measureFloor(file, events);
  const bare = await bareNodeRss();
  const deployEnv = childEnv({ NODE_OPTIONS: ctx.deploy.nodeOptions });
  const variants = [
    { label: '', env: childEnv() },
    { label: ` (NODE_OPTIONS=${ctx.deploy.nodeOptions})`, env: deployEnv },
  ];
  for (const variant of variants) {
    // replay: the file path.
    {
      const loki = await BenchLoki.start();
      const child = spawnReplay(file, loki.url, variant.env);
      try {
        const snap = await measureUntilDelivered(child, loki, events);
        const code = await child.waitExit(30_000);
        const exit = code === 0 ? '' : `, replay exit code ${String(code)}`;
        report(ctx, `replay${variant.label}`, snap, floor, bare, events, variant.env === deployEnv, `harness ${snap.harnessCpuS.toFixed(1)} CPU-s${exit}`);
      } finally {
        await child.stop();
        await loki.close();
      }
    }
    // run: the watch path.
    {
      const server = await BenchApiServer.start();
      server.loadFile(file);
      const loki = await BenchLoki.start();
      const child = spawnRun(ctx, server.writeKubeconfig(ctx.tmp), loki.url, [], variant.env);
      try {
        const snap = await measureUntilDelivered(child, loki, events);
        report(ctx, `run watch${variant.label}`, snap, floor, bare, events, variant.env === deployEnv, `harness ${snap.harnessCpuS.toFixed(1)} CPU-s, ${server.watchRequests} watch request(s)`);
      } finally {
        await child.stop();
        await loki.close();
        await server.close();
      }
    }
  }
}

function report(ctx: BenchContext, path: string, snap: ProcSnapshot, floor: FloorResult, bare: ProcSnapshot, events: number, underDeploy: boolean, note?: string): void {
  const scenario = `burst ${events / 1000}k: ${path}`;
  const rate = events / snap.wallS;
  ctx.report({
    scenario,
    figure: 'throughput (whole process, start to last entry accepted)',
    measured: { value: rate, unit: 'events/s' },
    reference: { value: floor.eventsPerS, unit: 'events/s', what: 'floor' },
    target: atLeast(rate, 0.6 * floor.eventsPerS, '≥ 0.6× floor'),
    ...(note ? { note } : {}),
  });
  ctx.report({
    scenario,
    figure: 'CPU time (user+system)',
    measured: { value: snap.cpuS, unit: 'CPU-s' },
    reference: { value: floor.cpuS, unit: 'CPU-s', what: 'floor' },
    target: atMost(snap.cpuS, 2 * floor.cpuS, '≤ 2× floor'),
  });
  const limit = underDeploy ? Math.min(PEAK_RSS_TARGET_MB, ctx.deploy.memoryLimitMb) : PEAK_RSS_TARGET_MB;
  ctx.report({
    scenario,
    figure: 'peak RSS (VmHWM)',
    measured: { value: snap.peakRssMb, unit: 'MiB' },
    reference: { value: bare.rssMb, unit: 'MiB', what: 'bare node' },
    target: atMost(snap.peakRssMb, limit, underDeploy ? `≤ ${PEAK_RSS_TARGET_MB} MiB (limit ${Math.round(ctx.deploy.memoryLimitMb)} Mi)` : `≤ ${PEAK_RSS_TARGET_MB} MiB`),
  });
}
