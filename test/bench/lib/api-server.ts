/**
 * A minimal Kubernetes API server for the benchmarks: serves core/v1 Events from a log of
 * pre-rendered watch lines as fast as the client reads, over HTTP or TLS. The test fake
 * (test/fakes/kube-api-server.ts) keeps every version and clones objects per request, which makes
 * it, not the shipper, the bottleneck at 100k+ events; this one only slices buffers.
 *
 * Event i has resourceVersion BASE_RV + 1 + i. The first `listed` events are what a list returns
 * (paged with `limit`/`continue`, snapshot at BASE_RV + listed); a watch from resourceVersion R
 * streams every event after R, then the ones appended later, until `timeoutSeconds`.
 */
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { BASE_RV } from './events.js';

const WATCH_PREFIX = Buffer.from('{"type":"ADDED","object":');
const WRITE_CHUNK = 256 * 1024;

export interface BenchApiServerOptions {
  readonly tls?: { readonly key: string; readonly cert: string; readonly ca: string };
}

export class BenchApiServer {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly lines: Buffer[] = [];
  private readonly waiting = new Set<() => void>();
  private port = 0;
  /** How many of the events a list returns (the rest only come through a watch). */
  listed = 0;
  /** performance.now() of the first list request, if any. */
  firstListAt: number | undefined;
  listRequests = 0;
  watchRequests = 0;
  openWatches = 0;
  /** Highest event index handed to any watch socket (+1): what the client has read or buffered. */
  sent = 0;

  private constructor(private readonly options: BenchApiServerOptions) {
    const handler = (req: IncomingMessage, res: ServerResponse): void => {
      this.handle(req, res).catch(() => res.destroy());
    };
    this.server = options.tls ? createHttpsServer({ key: options.tls.key, cert: options.tls.cert }, handler) : createHttpServer(handler);
    this.server.on(options.tls ? 'secureConnection' : 'connection', (s: Socket) => {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
    });
  }

  static async start(options: BenchApiServerOptions = {}): Promise<BenchApiServer> {
    const s = new BenchApiServer(options);
    s.server.listen(0, '127.0.0.1');
    await once(s.server, 'listening');
    s.port = (s.server.address() as AddressInfo).port;
    return s;
  }

  get url(): string {
    return `${this.options.tls ? 'https' : 'http'}://127.0.0.1:${this.port}`;
  }

  get events(): number {
    return this.lines.length;
  }

  /** Appends every line of a watch-lines file (as written by writeEventFile). */
  loadFile(path: string): void {
    const buf = readFileSync(path);
    let start = 0;
    while (start < buf.length) {
      const nl = buf.indexOf(10, start);
      const end = nl === -1 ? buf.length : nl + 1;
      this.lines.push(buf.subarray(start, end));
      start = end;
    }
    this.wake();
  }

  /** Appends one event (a watch line as EventFactory.watchLine renders it) and wakes open watches. */
  append(line: string): void {
    this.lines.push(Buffer.from(line));
    this.wake();
  }

  /** A kubeconfig file in `dir` that points here (token auth, the CA when over TLS). */
  writeKubeconfig(dir: string): string {
    // client-node refuses plain HTTP unless told to skip TLS verification.
    const cluster = this.options.tls ? `    certificate-authority-data: ${Buffer.from(this.options.tls.ca).toString('base64')}\n` : '    insecure-skip-tls-verify: true\n';
    const path = join(dir, 'kubeconfig');
    writeFileSync(
      path,
      `apiVersion: v1\nkind: Config\nclusters:\n- name: bench\n  cluster:\n    server: ${this.url}\n${cluster}users:\n- name: bench\n  user:\n    token: bench-token\ncontexts:\n- name: bench\n  context:\n    cluster: bench\n    user: bench\n    namespace: default\ncurrent-context: bench\n`,
    );
    return path;
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((r) => this.server.close(() => r()));
    for (const s of this.sockets) s.destroy();
    this.server.closeAllConnections();
    this.wake();
    await closed;
  }

  private wake(): void {
    const list = [...this.waiting];
    this.waiting.clear();
    for (const w of list) w();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method !== 'GET' || !url.pathname.endsWith('/events')) {
      return sendJson(res, 404, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'NotFound', code: 404, message: `${url.pathname} not found` });
    }
    const q = url.searchParams;
    if (q.get('watch') === 'true' || q.get('watch') === '1') return this.watch(req, res, q);
    return this.list(res, q);
  }

  private list(res: ServerResponse, q: URLSearchParams): void {
    this.firstListAt ??= performance.now();
    this.listRequests += 1;
    const total = Math.min(this.listed, this.lines.length);
    const limit = Number(q.get('limit') ?? '0') || total;
    const token = q.get('continue');
    const start = token ? Number(Buffer.from(token, 'base64url').toString('utf8')) : 0;
    const end = Math.min(total, start + limit);
    const metadata: Record<string, unknown> = { resourceVersion: String(BASE_RV + total) };
    if (end < total) {
      metadata['continue'] = Buffer.from(String(end)).toString('base64url');
      metadata['remainingItemCount'] = total - end;
    }
    const parts: Buffer[] = [Buffer.from(`{"kind":"EventList","apiVersion":"v1","metadata":${JSON.stringify(metadata)},"items":[`)];
    for (let i = start; i < end; i++) {
      const line = this.lines[i]!;
      if (i > start) parts.push(Buffer.from(','));
      // The object inside the watch line: without the {"type":…,"object": prefix and the closing }\n.
      parts.push(line.subarray(WATCH_PREFIX.length, line.length - 2));
    }
    parts.push(Buffer.from(']}'));
    const body = Buffer.concat(parts);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
    res.end(body);
  }

  private async watch(req: IncomingMessage, res: ServerResponse, q: URLSearchParams): Promise<void> {
    this.watchRequests += 1;
    const rv = Number(q.get('resourceVersion') ?? '0');
    let next = rv > BASE_RV ? rv - BASE_RV : rv === 0 ? Math.min(this.listed, this.lines.length) : 0;
    const timeoutMs = Number(q.get('timeoutSeconds') ?? '1800') * 1000;
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    res.flushHeaders();
    let closed = false;
    let wakeUp: (() => void) | undefined;
    const stop = (): void => {
      closed = true;
      wakeUp?.();
    };
    res.once('close', stop);
    req.once('close', stop);
    const timer = setTimeout(stop, timeoutMs);
    this.openWatches += 1;
    try {
      while (!closed) {
        if (next >= this.lines.length) {
          await new Promise<void>((r) => {
            wakeUp = r;
            this.waiting.add(r);
          });
          this.waiting.delete(wakeUp!);
          continue;
        }
        const chunk: Buffer[] = [];
        let size = 0;
        while (next < this.lines.length && size < WRITE_CHUNK) {
          const line = this.lines[next++]!;
          chunk.push(line);
          size += line.length;
        }
        this.sent = Math.max(this.sent, next);
        if (!res.write(chunk.length === 1 ? chunk[0] : Buffer.concat(chunk, size))) {
          await new Promise<void>((r) => {
            wakeUp = r;
            res.once('drain', r);
          });
        }
      }
    } finally {
      clearTimeout(timer);
      this.openWatches -= 1;
      if (!res.destroyed) res.end();
    }
  }
}

function sendJson(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
