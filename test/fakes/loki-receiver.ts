/**
 * A fake Loki for tests: a real HTTP (or HTTPS) server on 127.0.0.1, port 0, that decodes push
 * bodies with snappy and the project's `push.proto` through protobufjs reflection (independent of
 * the sink's hand-written codec) and records what it got. Replies can be scripted per request.
 *
 *   const loki = await startFakeLoki();
 *   loki.script({ status: 429 }, { status: 503 });   // the next two pushes fail, then 204 again
 *   ... push to loki.url ...
 *   await loki.waitForEntries(10);
 *   loki.entries();                                   // every entry of every push answered 2xx
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

const protoPath = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'sink', 'loki', 'push.proto');
const PushRequest = protobuf.loadSync(protoPath).lookupType('logproto.PushRequest');

/** How the fake answers one push. Fields combine: `delayMs` then `status`/`body`. */
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
  /** Decode and count, but keep no streams (for benchmarks that measure the sender's memory). */
  readonly discardEntries?: boolean;
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
  /** Every entry of every push the fake answered with 2xx (what Loki would have stored), in arrival order. */
  entries(): StoredEntry[];
  /** Resolves once `entries()` holds at least `count` entries; rejects after `timeoutMs` (default 5 s). */
  waitForEntries(count: number, timeoutMs?: number): Promise<StoredEntry[]>;
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
    const answer: ReceivedPush['answer'] = reply.hang ? 'hang' : reply.reset ? 'reset' : decodeError !== undefined ? 400 : (reply.status ?? 204);
    const peer = req.socket as Partial<TLSSocket>;
    const cn = typeof peer.getPeerCertificate === 'function' ? peer.getPeerCertificate().subject?.CN : undefined;
    requests.push({
      path,
      tenant: header(req.headers['x-scope-orgid']),
      authorization: header(req.headers.authorization),
      headers: req.headers,
      streams: options.discardEntries ? [] : streams,
      entryCount: streams.reduce((n, stream) => n + stream.entries.length, 0),
      decodeError,
      answer,
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
    if (decodeError !== undefined) {
      res.writeHead(400, { 'content-type': 'text/plain' }).end(`decode error: ${decodeError}`);
      return;
    }
    res.writeHead(answer as number, { ...reply.headers }).end(reply.body ?? '');
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

  const entries = (): StoredEntry[] =>
    requests
      .filter((r) => typeof r.answer === 'number' && r.answer >= 200 && r.answer < 300)
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
    waitForEntries: (count, timeoutMs = 5_000) =>
      waitFor(
        () => {
          const all = entries();
          return all.length >= count ? all : undefined;
        },
        timeoutMs,
        `${count} entries`,
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
