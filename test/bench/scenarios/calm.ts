/**
 * Scenario 3, calm cluster: 100 events/s for 60 s over TLS (a real API server always speaks TLS).
 * CPU over the window (from /proc, as a share of one core), pushes per second at the receiver,
 * and the largest RSS sampled during the window. The reference is the floor's CPU per event at the
 * same rate: what parsing alone would cost.
 */
import { join } from 'node:path';
import { makeTestCerts } from '../../support/certs.js';
import { BenchApiServer } from '../lib/api-server.js';
import { sleep, waitUntil } from '../lib/child.js';
import type { BenchContext } from '../lib/context.js';
import { writeEventFile } from '../lib/events.js';
import { BenchLoki } from '../lib/loki.js';
import { Producer } from '../lib/producer.js';
import { atMost } from '../lib/report.js';
import { bareNodeRss, measureFloor, spawnRun } from '../lib/shipper.js';

const RATE = 100;

export async function calm(ctx: BenchContext): Promise<void> {
  const windowMs = ctx.quick ? 15_000 : 60_000;
  const floorEvents = 20_000;
  const file = join(ctx.tmp, `calm-floor-${floorEvents}.jsonl`);
  writeEventFile(file, floorEvents);
  const floor = await measureFloor(file, floorEvents);
  const bare = await bareNodeRss();
  const certs = makeTestCerts();
  const server = await BenchApiServer.start({ tls: { key: certs.serverKey, cert: certs.serverCert, ca: certs.ca } });
  const loki = await BenchLoki.start();
  const child = spawnRun(ctx, server.writeKubeconfig(ctx.tmp), loki.url, [], undefined, 500);
  try {
    await waitUntil(() => server.openWatches > 0 || child.process.exitCode !== null, 60_000, 'run to open its watch');
    if (child.process.exitCode !== null) throw new Error(`run exited: ${child.stderr.slice(-2000)}`);
    await sleep(1_000); // let start-up work (JIT, first checkpoint) settle
    const before = child.measure();
    const pushesBefore = loki.acceptedPushes;
    const rssFrom = child.rssSeries.length;
    const producer = new Producer(server);
    await producer.run(RATE, windowMs);
    await loki.waitForEntries(producer.produced, 30_000);
    const after = child.measure();
    const seconds = after.wallS - before.wallS;
    const coreShare = ((after.cpuS - before.cpuS) / seconds) * 100;
    const pushesPerS = (loki.acceptedPushes - pushesBefore) / seconds;
    const maxRss = Math.max(after.rssMb, ...child.rssSeries.slice(rssFrom).map((s) => s.rssMb));
    const floorShare = (floor.cpuS / floorEvents) * RATE * 100;
    const scenario = `calm: ${RATE} events/s for ${windowMs / 1000} s over TLS`;
    ctx.report({
      scenario,
      figure: 'CPU, share of one core',
      measured: { value: coreShare, unit: '%' },
      reference: { value: floorShare, unit: '%', what: 'floor CPU per event × rate' },
      target: atMost(coreShare, 1, '≤ 1 %'),
      note: `${(after.cpuS - before.cpuS).toFixed(2)} CPU-s for ${producer.produced} events`,
    });
    ctx.report({ scenario, figure: 'pushes per second', measured: { value: pushesPerS, unit: 'pushes/s' }, target: atMost(pushesPerS, 2, '≤ 2/s') });
    ctx.report({
      scenario,
      figure: 'RSS (largest sampled in the window)',
      measured: { value: maxRss, unit: 'MiB' },
      reference: { value: bare.rssMb, unit: 'MiB', what: 'bare node' },
      target: atMost(maxRss, 80, '≤ 80 MiB'),
      note: `peak since start (VmHWM) ${after.peakRssMb.toFixed(0)} MiB`,
    });
  } finally {
    await child.stop();
    await loki.close();
    await server.close();
  }
}
