/** A real `/metrics` scrape over HTTP of the shipper's metric catalogue. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createMetrics } from '../../src/observe/metrics.js';

/**
 * Serves `createMetrics(...).registry` on 127.0.0.1 (as the shipper's `/metrics` does) and returns
 * the text a Prometheus scrape gets.
 */
export async function scrapeShipperMetrics(): Promise<string> {
  const metrics = createMetrics({ version: 'test', processMetrics: true });
  const server = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    metrics.registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
      (err: unknown) => res.writeHead(500).end(String(err)),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const response = await fetch(`http://127.0.0.1:${String(port)}/metrics`);
    if (response.status !== 200) throw new Error(`/metrics answered ${String(response.status)}`);
    return await response.text();
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
