/**
 * A fake Loki for tests: a real HTTP (or HTTPS) server on 127.0.0.1, port 0, that decodes push
 * bodies with snappy and the project's `push.proto` through protobufjs reflection (independent of
 * the sink's hand-written codec), records what it got, and by default enforces what a stock Loki
 * 3.2 enforces, answering with Loki's own words (see `loki-rules.ts`): per-stream out-of-order
 * window (1 h), max age (7 d), future grace (10 min), 256 KB lines, 15 label names (service_name
 * not counted, as in Loki), silent duplicates, partial 400s; 429 for a rate or stream limit when a
 * test sets one. Its clock is the real one unless a test passes `now`. Replies can be scripted.
 *
 *   const loki = await startFakeLoki();
 *   loki.script({ status: 429 }, { status: 503 });   // the next two pushes fail, then Loki again
 *   ... push to loki.url ...
 *   await loki.waitForEntries(10);
 *   loki.entries();                                   // what Loki stored, in arrival order
 *   loki.refusals();                                  // what it refused, with Loki's reason
 *   await loki.close();
 *
 * Endpoints: `POST /loki/api/v1/push` (any path prefix) and `GET /ready` (200 `ready`, or the
 * status set with `setReady`). Anything else answers 404.
 */
import { once } from 'node:events';
import { createServer as createHttpServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { dirname, resolve } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import snappy from 'snappyjs';
import { LokiModel, STOCK_LOKI_LIMITS, type LokiLimits, type Refusal, type Stored } from './loki-rules.js';

export { STOCK_LOKI_LIMITS, type LokiLimits, type LokiRefusalReason, type Refusal } from './loki-rules.js';

const protoPath = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'sink', 'loki', 'push.proto');
const PushRequest = protobuf.loadSync(protoPath).lookupType('logproto.PushRequest');

/**
 * How the fake answers one push. Fields combine: `delayMs` then `status`/`body`. A 2xx (or no)
 * status lets Loki's rules decide (and answers that status when they refuse nothing); any other
 * status is answered as scripted and stores nothing, like a gateway or an unhealthy Loki.
 */
export interface ScriptedReply {
  /** Default 204. */
  readonly status?: number;
  readonly body?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Wait this long (real time) before answering. */
  readonly delayMs?: number;
  /** Never answer; the connection stays open until the client gives up or the fake closes. */
  readonly hang?: boolean;
  /** Destroy the connection after reading the request, without answering. */
  readonly reset?: boolean;
}

export interface ReceivedEntry {
  /** Nanoseconds since the epoch. */
  readonly timestampNs: bigint;
  /** The same, as a decimal string (the fixtures' `ts`). */
  readonly ts: string;
  readonly line: string;
  /** Name → value, in wire order. */
  readonly structuredMetadata: Readonly<Record<string, string>>;
}

export interface ReceivedStream {
  readonly labels: string;
  readonly entries: readonly ReceivedEntry[];
}

export interface ReceivedPush {
  readonly path: string;
  /** `X-Scope-OrgID`, if sent. */
  readonly tenant: string | undefined;
  readonly authorization: string | undefined;
  readonly headers: IncomingHttpHeaders;
  /** Decoded streams; empty when the body could not be decoded (`decodeError` says why) or with `discardEntries`. */
  readonly streams: readonly ReceivedStream[];
  /** Entries in the body, also with `discardEntries`. */
  readonly entryCount: number;
  readonly decodeError: string | undefined;
  /** What the fake answered: a status, or `hang` / `reset`. */
  readonly answer: number | 'hang' | 'reset';
  /** The body it answered with ('' on success, hang or reset). */
  readonly replyBody: string;
  /** Entries of this push Loki stored / refused (see `refusals()`) / dropped as duplicates. */
  readonly stored: number;
  readonly refused: number;
  readonly duplicates: number;
  /** Subject CN of the client certificate, over mutual TLS. */
  readonly clientCertCN: string | undefined;
}

/** An entry with the stream and request it came in. */
export interface StoredEntry extends ReceivedEntry {
  readonly labels: string;
  readonly tenant: string | undefined;
}

export interface FakeLokiOptions {
  /** Serve HTTPS with this key/cert; with `ca` and `requestCert`, demand a client certificate. */
  readonly tls?: { readonly key: string; readonly cert: string; readonly ca?: string; readonly requestCert?: boolean };
  /** Decode and count, but keep no streams and no duplicate record (for benchmarks that measure the sender's memory). */
  readonly discardEntries?: boolean;
  /** Loki's limits, over the stock ones (`STOCK_LOKI_LIMITS`). */
  readonly limits?: Partial<LokiLimits>;
  /** The fake's clock (ms since the epoch), for age and future checks and rate limits. Default `Date.now`. */
  readonly now?: () => number;
  /** A gateway's body limit in front of Loki: a larger push body gets 413 and stores nothing. */
  readonly maxBodyBytes?: number;
}

export interface FakeLoki {
  /** Base URL, e.g. `http://127.0.0.1:39123` (no trailing slash). */
  readonly url: string;
  /** Every push request, in arrival order. */
  readonly requests: readonly ReceivedPush[];
  /** Queue replies for the next pushes, in order; once used up, pushes get the default reply. */
  script(...replies: ScriptedReply[]): void;
  /** The reply used when no scripted one is left. Default `{ status: 204 }`. */
  setDefaultReply(reply: ScriptedReply): void;
  /** Status of `GET /ready`. Default 200. */
  setReady(status: number): void;
  /** Every entry Loki stored (duplicates once, with the first one's metadata), in arrival order. */
  entries(): StoredEntry[];
  /**
   * Every entry of every push that reached Loki's rules, as sent (re-sends and refused entries
   * included): what a test looks at to see that something was sent again, byte for byte.
   */
  received(): StoredEntry[];
  /** Every entry Loki refused, with Loki's reason (reported in an answer or not: see loki-rules.ts). */
  refusals(): Refusal[];
  /** Changes limits from now on (over the stock ones, not over earlier changes). */
  setLimits(limits: Partial<LokiLimits>): void;
  /** Sets the fake's clock. */
  setNow(now: () => number): void;
  /** Serves a new certificate (HTTPS only) and cuts open connections, so the next ones use it. */
  setTls(tls: { readonly key: string; readonly cert: string; readonly ca?: string }): void;
  /** Pushes whose `Authorization` header is not this get 401 and store nothing; undefined: no check (default). */
  requireAuthorization(value: string | undefined): void;
  /** Sets (or with undefined, removes) the gateway body limit. */
  setMaxBodyBytes(bytes: number | undefined): void;
  /** Resolves once `entries()` holds at least `count` entries; rejects after `timeoutMs` (default 5 s). */
  waitForEntries(count: number, timeoutMs?: number): Promise<StoredEntry[]>;
  /** Resolves once `received()` holds at least `count` entries; rejects after `timeoutMs` (default 5 s). */
  waitForReceived(count: number, timeoutMs?: number): Promise<StoredEntry[]>;
  /** Resolves once `requests` holds at least `count` pushes; rejects after `timeoutMs` (default 5 s). */
  waitForRequests(count: number, timeoutMs?: number): Promise<readonly ReceivedPush[]>;
  /** Stops the server, cutting hanging connections. */
  close(): Promise<void>;
}

export async function startFakeLoki(options: FakeLokiOptions = {}): Promise<FakeLoki> {
  const requests: ReceivedPush[] = [];
  const scripted: ScriptedReply[] = [];
  let defaultReply: ScriptedReply = { status: 204 };
  let readyStatus = 200;
  let now = options.now ?? Date.now;
  let maxBodyBytes = options.maxBodyBytes;
  let requiredAuthorization: string | undefined;
  const keep = options.discardEntries !== true;
  const model = new LokiModel({ ...STOCK_LOKI_LIMITS, ...options.limits }, () => now(), keep);
  const stored: StoredEntry[] = [];
  const refused: Refusal[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const listeners = new Set<() => void>();
  const changed = (): void => {
    for (const listener of listeners) listener();
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (req.method === 'GET' && path.endsWith('/ready')) {
      res.writeHead(readyStatus, { 'content-type': 'text/plain' }).end(readyStatus === 200 ? 'ready' : 'not ready');
      return;
    }
    if (req.method !== 'POST' || !path.endsWith('/loki/api/v1/push')) {
      res.writeHead(404).end('404 page not found\n');
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const reply = scripted.shift() ?? defaultReply;
    let streams: ReceivedStream[] = [];
    let decodeError: string | undefined;
    try {
      if (req.headers['content-type'] !== 'application/x-protobuf') throw new Error(`unsupported content type ${req.headers['content-type']}`);
      streams = decodeWithProto(body);
    } catch (err) {
      decodeError = err instanceof Error ? err.message : String(err);
    }
    const scriptedStatus = reply.status ?? 204;
    let answer: ReceivedPush['answer'] = reply.hang ? 'hang' : reply.reset ? 'reset' : scriptedStatus;
    let replyBody = reply.body ?? '';
    let replyHeaders: Record<string, string> = { ...reply.headers };
    let verdict: { stored: readonly Stored[]; refused: readonly Refusal[]; duplicates: number } = { stored: [], refused: [], duplicates: 0 };
    if (typeof answer === 'number') {
      if (requiredAuthorization !== undefined && header(req.headers.authorization) !== requiredAuthorization) {
        // What Grafana's auth gateways in front of Loki answer.
        answer = 401;
        replyBody = 'Unauthorized\n';
        replyHeaders = { 'content-type': 'text/plain; charset=utf-8' };
      } else if (maxBodyBytes !== undefined && body.length > maxBodyBytes) {
        // What nginx, the usual gateway in front of Loki, answers.
        answer = 413;
        replyBody = '<html>\r\n<head><title>413 Request Entity Too Large</title></head>\r\n<body>\r\n<center><h1>413 Request Entity Too Large</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n';
        replyHeaders = { 'content-type': 'text/html' };
      } else if (decodeError !== undefined) {
        answer = 400;
        replyBody = `decode error: ${decodeError}`;
        replyHeaders = { 'content-type': 'text/plain' };
      } else if (scriptedStatus >= 200 && scriptedStatus < 300) {
        const result = model.push(header(req.headers['x-scope-orgid']), streams);
        verdict = result;
        if (result.status >= 300) {
          answer = result.status;
          replyBody = result.body;
          replyHeaders = { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' };
        }
      }
    }
    if (keep) stored.push(...verdict.stored.map((e) => ({ timestampNs: e.timestampNs, ts: e.timestampNs.toString(), line: e.line, structuredMetadata: e.structuredMetadata, labels: e.labels, tenant: e.tenant })));
    refused.push(...verdict.refused);
    const peer = req.socket as Partial<TLSSocket>;
    const cn = typeof peer.getPeerCertificate === 'function' ? peer.getPeerCertificate().subject?.CN : undefined;
    requests.push({
      path,
      tenant: header(req.headers['x-scope-orgid']),
      authorization: header(req.headers.authorization),
      headers: req.headers,
      streams: keep ? streams : [],
      entryCount: streams.reduce((n, stream) => n + stream.entries.length, 0),
      decodeError,
      answer,
      replyBody: typeof answer === 'number' ? replyBody : '',
      stored: verdict.stored.length,
      refused: verdict.refused.length,
      duplicates: verdict.duplicates,
      clientCertCN: typeof cn === 'string' && cn !== '' ? cn : undefined,
    });
    changed();
    if (reply.hang) return;
    if (reply.reset) {
      req.socket.destroy();
      return;
    }
    if (reply.delayMs !== undefined) {
      await new Promise<void>((done) => {
        const timer = setTimeout(() => {
          timers.delete(timer);
          done();
        }, reply.delayMs);
        timers.add(timer);
      });
    }
    res.writeHead(answer as number, replyHeaders).end(replyBody);
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500).end(String(err));
    });
  };
  const tls = options.tls;
  const server: Server = tls
    ? createHttpsServer({ key: tls.key, cert: tls.cert, ca: tls.ca, requestCert: tls.requestCert ?? false, rejectUnauthorized: tls.requestCert ?? false }, onRequest)
    : createHttpServer(onRequest);
  server.on(tls ? 'secureConnection' : 'connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;

  const entries = (): StoredEntry[] => [...stored];
  const received = (): StoredEntry[] =>
    requests
      .filter((r) => r.stored + r.refused + r.duplicates > 0)
      .flatMap((r) => r.streams.flatMap((s) => s.entries.map((e) => ({ ...e, labels: s.labels, tenant: r.tenant }))));

  const waitFor = <T>(ready: () => T | undefined, timeoutMs: number, what: string): Promise<T> =>
    new Promise<T>((resolvePromise, reject) => {
      const check = (): void => {
        const value = ready();
        if (value === undefined) return;
        finish();
        resolvePromise(value);
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`fake Loki: timed out waiting for ${what}`));
      }, timeoutMs);
      const finish = (): void => {
        clearTimeout(timer);
        listeners.delete(check);
      };
      listeners.add(check);
      check();
    });

  return {
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    requests,
    script: (...replies) => scripted.push(...replies),
    setDefaultReply: (reply) => {
      defaultReply = reply;
    },
    setReady: (status) => {
      readyStatus = status;
    },
    entries,
    received,
    refusals: () => [...refused],
    setLimits: (limits) => {
      model.limits = { ...STOCK_LOKI_LIMITS, ...limits };
    },
    setNow: (clock) => {
      now = clock;
    },
    setTls: (next) => {
      if (!('setSecureContext' in server)) throw new Error('fake Loki: setTls needs a fake started with tls');
      (server as ReturnType<typeof createHttpsServer>).setSecureContext({ key: next.key, cert: next.cert, ...(next.ca !== undefined ? { ca: next.ca } : {}) });
      for (const socket of sockets) socket.destroy();
    },
    requireAuthorization: (value) => {
      requiredAuthorization = value;
    },
    setMaxBodyBytes: (bytes) => {
      maxBodyBytes = bytes;
    },
    waitForEntries: (count, timeoutMs = 5_000) =>
      waitFor(
        () => {
          const all = entries();
          return all.length >= count ? all : undefined;
        },
        timeoutMs,
        `${count} entries`,
      ),
    waitForReceived: (count, timeoutMs = 5_000) =>
      waitFor(
        () => {
          const all = received();
          return all.length >= count ? all : undefined;
        },
        timeoutMs,
        `${count} received entries`,
      ),
    waitForRequests: (count, timeoutMs = 5_000) =>
      waitFor(() => (requests.length >= count ? requests : undefined), timeoutMs, `${count} requests`),
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      const closed = new Promise<void>((done) => server.close(() => done()));
      for (const socket of sockets) socket.destroy();
      server.closeAllConnections();
      await closed;
    },
  };
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

interface ReflectedPush {
  streams?: { labels?: string; entries?: { timestamp?: { seconds?: string; nanos?: number }; line?: string; structuredMetadata?: { name?: string; value?: string }[] }[] }[];
}

/** Decodes with protobufjs reflection over push.proto: a second opinion on the sink's own codec. */
export function decodeWithProto(body: Uint8Array): ReceivedStream[] {
  const raw = snappy.uncompress(body);
  const message = PushRequest.toObject(PushRequest.decode(raw), { longs: String, defaults: true, arrays: true }) as ReflectedPush;
  return (message.streams ?? []).map((stream) => ({
    labels: stream.labels ?? '',
    entries: (stream.entries ?? []).map((entry) => {
      const timestampNs = BigInt(entry.timestamp?.seconds ?? '0') * 1_000_000_000n + BigInt(entry.timestamp?.nanos ?? 0);
      const structuredMetadata = Object.create(null) as Record<string, string>;
      for (const pair of entry.structuredMetadata ?? []) structuredMetadata[pair.name ?? ''] = pair.value ?? '';
      return { timestampNs, ts: timestampNs.toString(), line: entry.line ?? '', structuredMetadata };
    }),
  }));
}
