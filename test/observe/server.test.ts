import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { createHealthTracker } from '../../src/observe/health.js';
import { createLogger } from '../../src/observe/logger.js';
import { createMetrics, EVENT_DROP_REASONS, WATCH_EVENT_TYPES } from '../../src/observe/metrics.js';
import { startObserveServer } from '../../src/observe/server.js';
import { ManualClock } from '../support/manual-clock.js';
import { parseMetrics, readMetrics } from '../support/metrics.js';

const silent = pino({ level: 'silent' });

async function withServer(fn: (ctx: { url: string; clock: ManualClock; metrics: ReturnType<typeof createMetrics>; health: ReturnType<typeof createHealthTracker> }) => Promise<void>): Promise<void> {
  const clock = new ManualClock();
  const metrics = createMetrics({ version: '1.2.3' });
  const health = createHealthTracker({ clock, stallTimeoutMs: 60_000 });
  const server = await startObserveServer({ host: '127.0.0.1', port: 0 }, { registry: metrics.registry, health, logger: silent });
  try {
    await fn({ url: server.url, clock, metrics, health });
  } finally {
    await server.close();
  }
}

describe('observe server', () => {
  it('/metrics serves every counter at 0 before the first increment, in Prometheus text', async () => {
    await withServer(async ({ url }) => {
      const res = await fetch(`${url}/metrics`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
      const samples = parseMetrics(await res.text());
      for (const reason of EVENT_DROP_REASONS) assert.equal(samples.value('kube_event_shipper_events_dropped_total', { reason }), 0);
      for (const type of WATCH_EVENT_TYPES) assert.equal(samples.value('kube_event_shipper_events_received_total', { type }), 0);
      assert.equal(samples.value('kube_event_shipper_events_shipped_total'), 0);
      assert.equal(samples.value('kube_event_shipper_build_info', { version: '1.2.3' }), 1);
      assert.equal(samples.value('kube_event_shipper_leader'), 0);
    });
  });

  it('/metrics reflects increments made by the modules', async () => {
    await withServer(async ({ url, metrics }) => {
      metrics.eventsShipped.inc(3);
      metrics.eventsDropped.inc({ reason: 'loki_rejected' }, 2);
      metrics.leader.set(1);
      const samples = await readMetrics(`${url}/metrics`);
      assert.equal(samples.value('kube_event_shipper_events_shipped_total'), 3);
      assert.equal(samples.value('kube_event_shipper_events_dropped_total', { reason: 'loki_rejected' }), 2);
      assert.equal(samples.value('kube_event_shipper_leader'), 1);
    });
  });

  it('/healthz turns 503 when the active pipeline stalls, and back to 200 on progress', async () => {
    await withServer(async ({ url, clock, health }) => {
      health.setActive(true);
      assert.equal((await fetch(`${url}/healthz`)).status, 200);
      clock.advance(61_000);
      const stalled = await fetch(`${url}/healthz`);
      assert.equal(stalled.status, 503);
      assert.match(await stalled.text(), /^stalled: /);
      health.sourceActivity();
      assert.equal((await fetch(`${url}/healthz`)).status, 200);
    });
  });

  it('/readyz is 503 until a watch is open and the destination was seen reachable', async () => {
    await withServer(async ({ url, health }) => {
      health.setActive(true);
      const notReady = await fetch(`${url}/readyz`);
      assert.equal(notReady.status, 503);
      assert.equal(await notReady.text(), 'no open watch\n');
      health.watchOpen(true);
      const unknown = await fetch(`${url}/readyz`);
      assert.equal(unknown.status, 503);
      assert.equal(await unknown.text(), 'destination not yet seen reachable\n');
      health.destinationProbed(true);
      assert.equal((await fetch(`${url}/readyz`)).status, 200);
    });
  });

  it('unknown paths are 404 and other methods 405', async () => {
    await withServer(async ({ url }) => {
      assert.equal((await fetch(`${url}/nope`)).status, 404);
      assert.equal((await fetch(`${url}/metrics`, { method: 'POST' })).status, 405);
    });
  });

  it('a port already in use is an error, not a hang', async () => {
    const metrics = createMetrics({ version: 't' });
    const health = createHealthTracker({ clock: new ManualClock(), stallTimeoutMs: 1 });
    const first = await startObserveServer({ host: '127.0.0.1', port: 0 }, { registry: metrics.registry, health, logger: silent });
    try {
      await assert.rejects(startObserveServer({ host: '127.0.0.1', port: first.port }, { registry: metrics.registry, health, logger: silent }), /EADDRINUSE/);
    } finally {
      await first.close();
    }
  });
});

describe('createLogger', () => {
  it('writes JSON with the level label, base fields and redacted secrets', () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const logger = createLogger({ level: 'info', version: '9.9.9', destination });
    logger.debug('hidden');
    logger.info({ config: { lokiPassword: 'hunter2', tenant: 't' } }, 'config loaded');
    assert.equal(lines.length, 1);
    const record = JSON.parse(lines[0] ?? '') as Record<string, unknown>;
    assert.equal(record['level'], 'info');
    assert.equal(record['msg'], 'config loaded');
    assert.equal(record['version'], '9.9.9');
    assert.doesNotMatch(lines[0] ?? '', /hunter2/);
  });
});
