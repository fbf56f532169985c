/** A real `/metrics` scrape over HTTP of the shipper's metrics, from its own observe server. */
import pino from 'pino';
import { systemClock } from '../../src/core/clock.js';
import { createHealthTracker } from '../../src/observe/health.js';
import { createMetrics } from '../../src/observe/metrics.js';
import { startObserveServer } from '../../src/observe/server.js';

/**
 * Starts the shipper's observe server (as `run` does: `createMetrics` with process metrics) on
 * 127.0.0.1, scrapes `/metrics` the way Prometheus does, and returns the text.
 */
export async function scrapeShipperMetrics(): Promise<string> {
  const metrics = createMetrics({ version: 'test', processMetrics: true });
  const health = createHealthTracker({ stallTimeoutMs: 60_000, clock: systemClock });
  const server = await startObserveServer({ host: '127.0.0.1', port: 0 }, { registry: metrics.registry, health, logger: pino({ level: 'silent' }) });
  try {
    const response = await fetch(`${server.url}/metrics`);
    if (response.status !== 200) throw new Error(`/metrics answered ${String(response.status)}`);
    return await response.text();
  } finally {
    await server.close();
  }
}
