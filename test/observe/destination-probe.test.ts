import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { runDestinationProbe, type DestinationProbeResult } from '../../src/observe/destination-probe.js';
import { createHealthTracker } from '../../src/observe/health.js';
import { createMetrics } from '../../src/observe/metrics.js';
import { startObserveServer } from '../../src/observe/server.js';
import { probeLoki } from '../../src/sink/loki/index.js';
import { startFakeLoki } from '../fakes/loki-receiver.js';
import { ManualClock } from '../support/manual-clock.js';
import { waitForReadyz } from '../support/wait.js';

const silent = pino({ level: 'silent' });
const INTERVAL_MS = 15_000;

async function setUp(lokiUrl: () => string) {
  const clock = new ManualClock();
  const health = createHealthTracker({ clock, stallTimeoutMs: 60_000 });
  const metrics = createMetrics({ version: 'test' });
  const server = await startObserveServer({ host: '127.0.0.1', port: 0 }, { registry: metrics.registry, health, logger: silent });
  let probes = 0;
  const probe = async (): Promise<DestinationProbeResult> => {
    probes++;
    const result = await probeLoki({ url: lokiUrl(), timeoutMs: 2000 });
    return result.kind === 'ready' ? { ready: true } : { ready: false, detail: result.kind };
  };
  const stop = new AbortController();
  const running = runDestinationProbe(INTERVAL_MS, { probe, health, clock, logger: silent }, stop.signal);
  health.setActive(true);
  health.watchOpen(true);
  return {
    clock,
    health,
    url: server.url,
    probes: () => probes,
    async close() {
      stop.abort();
      await running;
      await server.close();
    },
  };
}

describe('destination probe', () => {
  it('/readyz is not ready before Loki was seen, and ready once its /ready answers 200, with no push', async () => {
    const loki = await startFakeLoki();
    loki.setReady(503);
    const ctx = await setUp(() => loki.url);
    try {
      await waitForReadyz(ctx.url, { status: 503, body: /destination unreachable/ });
      loki.setReady(200);
      ctx.clock.advance(INTERVAL_MS);
      await waitForReadyz(ctx.url, { status: 200, body: /ok/ });
      assert.equal(loki.requests.length, 0, 'no push was needed');
      assert.equal(ctx.health.liveness().ok, true);
    } finally {
      await ctx.close();
      await loki.close();
    }
  });

  it('an unreachable Loki keeps /readyz failing from the start', async () => {
    const loki = await startFakeLoki();
    const url = loki.url;
    await loki.close();
    const ctx = await setUp(() => url);
    try {
      await waitForReadyz(ctx.url, { status: 503, body: /destination unreachable/ });
    } finally {
      await ctx.close();
    }
  });

  it('a push that succeeded within the interval makes the probe skip its turn', async () => {
    const loki = await startFakeLoki();
    const ctx = await setUp(() => loki.url);
    try {
      await waitForReadyz(ctx.url, { status: 200, body: /ok/ });
      assert.equal(ctx.probes(), 1, 'probed once at start-up');
      ctx.clock.advance(INTERVAL_MS - 1);
      ctx.health.sinkDelivered();
      ctx.clock.advance(1);
      await new Promise((r) => setImmediate(r));
      assert.equal(ctx.probes(), 1, 'skipped: a push proved Loki reachable');
      ctx.clock.advance(INTERVAL_MS);
      for (let i = 0; i < 250 && ctx.probes() < 2; i++) await new Promise((r) => setTimeout(r, 20));
      assert.equal(ctx.probes(), 2, 'probes again once no push succeeded for an interval');
    } finally {
      await ctx.close();
      await loki.close();
    }
  });
});
