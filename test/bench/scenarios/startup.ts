/**
 * Scenario 4, idle and start-up: `--version` wall time and the time from spawn to the first list
 * request reaching the API server, each as the median of a few tries beside a bare Node doing the
 * least it could (`node -e 0`; an HTTP GET of the same list URL); the RSS of a `run` whose watch
 * has been open and quiet for a while, beside a bare idle Node (with Node's defaults and with the
 * Deployment's NODE_OPTIONS).
 */
import { BenchApiServer } from '../lib/api-server.js';
import { cliPath, type BenchContext } from '../lib/context.js';
import { BenchLoki } from '../lib/loki.js';
import { sleep, waitUntil } from '../lib/child.js';
import { atMost } from '../lib/report.js';
import { bareNodeRss, childEnv, median, spawnNode, spawnRun } from '../lib/shipper.js';
import type { ProcSnapshot } from '../lib/child.js';

/** Wall time to exit, and the largest RSS sampled every 5 ms meanwhile (a short-lived process has no later /proc to read). */
async function exitWallMs(args: readonly string[]): Promise<{ ms: number; rssMb: number }> {
  const child = spawnNode(args, { sampleMs: 5 });
  const code = await child.exitCode;
  const ms = performance.now() - child.startedAt;
  if (code !== 0) throw new Error(`node ${args.join(' ')} exited with ${String(code)}: ${child.stderr.slice(-500)}`);
  return { ms, rssMb: child.maxSampledRssMb };
}

export async function startup(ctx: BenchContext): Promise<void> {
  const tries = ctx.quick ? 3 : 7;
  // --version against node -e 0, interleaved so that a busy moment hits both.
  const version: number[] = [];
  const bare: number[] = [];
  let versionRss = 0;
  for (let i = 0; i < tries; i++) {
    bare.push((await exitWallMs(['-e', '0'])).ms);
    const v = await exitWallMs([cliPath, '--version']);
    version.push(v.ms);
    versionRss = Math.max(versionRss, v.rssMb);
  }
  const versionMs = median(version);
  ctx.report({
    scenario: 'start-up',
    figure: `\`--version\` wall time (median of ${tries})`,
    measured: { value: versionMs, unit: 'ms' },
    reference: { value: median(bare), unit: 'ms', what: 'node -e 0' },
    target: atMost(versionMs, 150, '≤ 150 ms'),
    note: `largest RSS sampled ${versionRss.toFixed(0)} MiB`,
  });

  const server = await BenchApiServer.start();
  const loki = await BenchLoki.start();
  const kubeconfig = server.writeKubeconfig(ctx.tmp);
  try {
    const toList: number[] = [];
    const bareToList: number[] = [];
    const listUrl = `${server.url}/api/v1/events?limit=500`;
    for (let i = 0; i < tries; i++) {
      server.firstListAt = undefined;
      const b = spawnNode(['-e', `require('node:http').get(process.argv[1], (r) => r.resume().on('end', () => process.exit(0)))`, listUrl]);
      await waitUntil(() => server.firstListAt !== undefined, 30_000, 'a bare node to list', 1);
      bareToList.push(server.firstListAt! - b.startedAt);
      await b.exitCode;

      server.firstListAt = undefined;
      const child = spawnRun(ctx, kubeconfig, loki.url);
      try {
        await waitUntil(() => server.firstListAt !== undefined || child.process.exitCode !== null, 60_000, 'run to list', 1);
        if (server.firstListAt === undefined) throw new Error(`run exited before listing: ${child.stderr.slice(-1000)}`);
        toList.push(server.firstListAt - child.startedAt);
      } finally {
        await child.stop();
      }
    }
    const listMs = median(toList);
    ctx.report({
      scenario: 'start-up',
      figure: `\`run\`: start to first list request (median of ${tries})`,
      measured: { value: listMs, unit: 'ms' },
      reference: { value: median(bareToList), unit: 'ms', what: 'bare node GET' },
      target: atMost(listMs, 300, '≤ 300 ms'),
    });

    // Idle: the watch open on a cluster where nothing happens; with Node's defaults and with the
    // Deployment's NODE_OPTIONS (how users run it).
    const bareIdle = await bareNodeRss();
    await idleRss(ctx, { server, kubeconfig, lokiUrl: loki.url, bareIdle }, '', childEnv());
    await idleRss(ctx, { server, kubeconfig, lokiUrl: loki.url, bareIdle }, ` (NODE_OPTIONS=${ctx.deploy.nodeOptions})`, childEnv({ NODE_OPTIONS: ctx.deploy.nodeOptions }));
  } finally {
    await loki.close();
    await server.close();
  }
}

interface IdleInput {
  readonly server: BenchApiServer;
  readonly kubeconfig: string;
  readonly lokiUrl: string;
  readonly bareIdle: ProcSnapshot;
}

async function idleRss(ctx: BenchContext, input: IdleInput, label: string, env: NodeJS.ProcessEnv): Promise<void> {
  const idleMs = ctx.quick ? 3_000 : 10_000;
  const watchesBefore = input.server.watchRequests;
  const child = spawnRun(ctx, input.kubeconfig, input.lokiUrl, [], env);
  try {
    await waitUntil(() => input.server.watchRequests > watchesBefore, 60_000, 'run to open its watch');
    await sleep(idleMs);
    const snap = child.measure();
    ctx.report({
      scenario: `idle${label}`,
      figure: `\`run\` RSS, watch open and quiet for ${idleMs / 1000} s`,
      measured: { value: snap.rssMb, unit: 'MiB' },
      reference: { value: input.bareIdle.rssMb, unit: 'MiB', what: 'bare idle node' },
      target: atMost(snap.rssMb, 80, '≤ 80 MiB'),
      note: `peak during start-up ${snap.peakRssMb.toFixed(0)} MiB, ${snap.cpuS.toFixed(2)} CPU-s so far`,
    });
  } finally {
    await child.stop();
  }
}
