/** The HTTP server SREs and Kubernetes talk to: `/metrics`, `/healthz`, `/readyz`. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { ShipperError } from '../core/errors.js';
import type { HealthTracker, Verdict } from './health.js';

export interface ObserveServerOptions {
  /** Empty host: every interface. Port 0: any free port (tests). */
  readonly host: string;
  readonly port: number;
}

export interface ObserveServerDeps {
  readonly registry: Registry;
  readonly health: Pick<HealthTracker, 'liveness' | 'readiness'>;
  readonly logger: Logger;
}

/** The observe server could not listen (port taken, no permission, unknown host): names `--listen`. */
export class ListenError extends ShipperError {
  readonly code = 'E_LISTEN';
  constructor(options: ObserveServerOptions, cause: NodeJS.ErrnoException) {
    const hint = cause.code === 'EADDRINUSE' ? ' (another process uses this port: choose another with --listen)' : '';
    super(`cannot listen on --listen ${options.host}:${options.port}: ${cause.code ?? cause.message}${hint}`, { cause });
  }
}

export interface ObserveServer {
  readonly port: number;
  /** Base URL, e.g. `http://127.0.0.1:8080`. */
  readonly url: string;
  close(): Promise<void>;
}

export async function startObserveServer(options: ObserveServerOptions, deps: ObserveServerDeps): Promise<ObserveServer> {
  const probe = (verdict: Verdict): { status: number; body: string } => ({
    status: verdict.ok ? 200 : 503,
    body: verdict.reason + '\n',
  });

  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const send = (status: number, contentType: string, body: string): void => {
      res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    switch (path) {
      case '/metrics':
        deps.registry.metrics().then(
          (text) => send(200, deps.registry.contentType, text),
          (err: unknown) => {
            deps.logger.error({ err }, 'metrics collection failed');
            send(500, 'text/plain; charset=utf-8', 'metrics collection failed\n');
          },
        );
        return;
      case '/healthz': {
        const { status, body } = probe(deps.health.liveness());
        send(status, 'text/plain; charset=utf-8', body);
        return;
      }
      case '/readyz': {
        const { status, body } = probe(deps.health.readiness());
        send(status, 'text/plain; charset=utf-8', body);
        return;
      }
      default:
        send(404, 'text/plain; charset=utf-8', 'not found: try /metrics, /healthz or /readyz\n');
    }
  });
  server.keepAliveTimeout = 5000;

  await new Promise<void>((resolve, reject) => {
    const fail = (err: NodeJS.ErrnoException): void => reject(new ListenError(options, err));
    server.once('error', fail);
    server.listen(options.port, options.host === '' ? undefined : options.host, () => {
      server.off('error', fail);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  deps.logger.info({ address: address.address, port: address.port }, 'observe server listening');

  return {
    port: address.port,
    url: `http://${host === '[::]' ? '127.0.0.1' : host === '0.0.0.0' ? '127.0.0.1' : host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
