/**
 * Scenario 3, calm cluster: 100 events/s for 60 s over TLS (a real API server always speaks TLS).
 * CPU over the window (from /proc, as a share of one core), pushes per second at the receiver,
 * and the largest RSS sampled during the window; once with Node's defaults and once with the
 * Deployment's NODE_OPTIONS, both shippers watching the same server at the same time. The CPU
 * reference is a bare Node reading that same watch meanwhile (watch-reader.ts): at this rate each
 * event arrives alone, and what reading it costs is far above the burst floor's cost per event
 * (given in the note).
 */
import { join } from 'node:path';
import { makeTestCerts } from '../../support/certs.js';
import { BenchApiServer } from '../lib/api-server.js';
import { sleep, waitUntil, type MeasuredChild, type ProcSnapshot } from '../lib/child.js';
import type { BenchContext } from '../lib/context.js';
import { writeEventFile } from '../lib/events.js';
import { BenchLoki } from '../lib/loki.js';
import { Producer } from '../lib/producer.js';
import { atMost } from '../lib/report.js';
import { bareNodeRss, childEnv, measureFloor, spawnRun } from '../lib/shipper.js';
import { spawnWatchReader } from '../lib/watch-reader.js';

const RATE = 100;

interface Shipper {
  readonly label: string;
  readonly loki: BenchLoki;
  readonly child: MeasuredChild;
}

const cpuShare = (from: ProcSnapshot, to: ProcSnapshot): number => ((to.cpuS - from.cpuS) / (to.wallS - from.wallS)) * 100;

export async function calm(ctx: BenchContext): Promise<void> {
  const windowMs = ctx.quick ? 15_000 : 60_000;
  const floorEvents = 20_000;
  const file = join(ctx.tmp, `calm-floor-${floorEvents}.jsonl`);
  writeEventFile(file, floorEvents);
  const floor = await measureFloor(file, floorEvents);
  const bare = await bareNodeRss();
  const certs = makeTestCerts();
  const server = await BenchApiServer.start({ tls: { key: certs.serverKey, cert: certs.serverCert, ca: certs.ca } });
  const kubeconfig = server.writeKubeconfig(ctx.tmp);
  const shippers: Shipper[] = [];
  let reader: MeasuredChild | undefined;
  try {
    for (const variant of [
      { label: '', env: childEnv() },
      { label: ` (NODE_OPTIONS=${ctx.deploy.nodeOptions})`, env: childEnv({ NODE_OPTIONS: ctx.deploy.nodeOptions }) },
    ]) {
      const loki = await BenchLoki.start();
      shippers.push({ label: variant.label, loki, child: spawnRun(ctx, kubeconfig, loki.url, [], variant.env, 500) });
    }
    reader = spawnWatchReader(ctx.tmp, `${server.url}/api/v1/events?watch=true`, certs.ca);
    const children = [...shippers.map((s) => s.child), reader];
    await waitUntil(() => server.openWatches >= children.length || children.some((c) => c.process.exitCode !== null), 60_000, 'every shipper and the reader to open their watch');
    const exited = children.find((c) => c.process.exitCode !== null);
    if (exited) throw new Error(`a child exited: ${exited.stderr.slice(-2000)}`);
    await sleep(1_000); // let start-up work (JIT, first checkpoint) settle
    const before = children.map((c) => c.measure());
    const pushesBefore = shippers.map((s) => s.loki.acceptedPushes);
    const rssFrom = children.map((c) => c.rssSeries.length);
    const producer = new Producer(server);
    // Measured at half time too: the first half holds most of the JIT's warm-up at this rate.
    const half = producer.run(RATE, windowMs / 2).then(() => children.map((c) => c.measure()));
    const mid = await half;
    await producer.run(RATE, windowMs / 2);
    for (const s of shippers) await s.loki.waitForEntries(producer.produced, 30_000);
    const after = children.map((c) => c.measure());
    const scenario = `calm: ${RATE} events/s for ${windowMs / 1000} s over TLS`;
    const readerIndex = children.length - 1;
    const readerShare = cpuShare(before[readerIndex]!, after[readerIndex]!);
    const floorShare = (floor.cpuS / floorEvents) * RATE * 100;
    shippers.forEach((s, i) => {
      const b = before[i]!;
      const a = after[i]!;
      const seconds = a.wallS - b.wallS;
      const coreShare = cpuShare(b, a);
      const halves = `first half ${cpuShare(b, mid[i]!).toFixed(2)} %, second ${cpuShare(mid[i]!, a).toFixed(2)} %`;
      ctx.report({
        scenario,
        figure: `CPU, share of one core${s.label}`,
        measured: { value: coreShare, unit: '%' },
        reference: { value: readerShare, unit: '%', what: 'bare node reading the same watch (undici, TLS, JSON.parse)' },
        target: atMost(coreShare, 1, '≤ 1 %'),
        note: `${(a.cpuS - b.cpuS).toFixed(2)} CPU-s for ${producer.produced} events (${halves}); burst floor's CPU per event × rate: ${floorShare.toFixed(2)} %`,
      });
      if (i === 0) {
        const pushesPerS = (s.loki.acceptedPushes - pushesBefore[i]!) / seconds;
        ctx.report({ scenario, figure: 'pushes per second', measured: { value: pushesPerS, unit: 'pushes/s' }, target: atMost(pushesPerS, 2, '≤ 2/s') });
      }
      const maxRss = Math.max(a.rssMb, ...s.child.rssSeries.slice(rssFrom[i]).map((r) => r.rssMb));
      ctx.report({
        scenario,
        figure: `RSS (largest sampled in the window)${s.label}`,
        measured: { value: maxRss, unit: 'MiB' },
        reference: { value: bare.rssMb, unit: 'MiB', what: 'bare node' },
        target: atMost(maxRss, 80, '≤ 80 MiB'),
        note: `peak since start (VmHWM) ${a.peakRssMb.toFixed(0)} MiB`,
      });
    });
  } finally {
    await reader?.stop();
    for (const s of shippers) {
      await s.child.stop();
      await s.loki.close();
    }
    await server.close();
  }
}
