/**
 * A Loki push receiver for the benchmarks: snappy-decompresses each body and walks the protobuf
 * wire format just far enough to count entries (and, when asked, collect each entry's event_uid
 * structured metadata to check exactly-once delivery). No message objects: at 100k+ entries/s the
 * test fake's protobufjs reflection decoding would be the bottleneck.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import snappy from 'snappyjs';

export interface BenchLokiOptions {
  /** Collect event_uid of every accepted entry (costs a string per entry). */
  readonly collectIds?: boolean;
}

export class BenchLoki {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly listeners = new Set<() => void>();
  private port = 0;
  /** Status answered to pushes (204 accepts). */
  status = 204;
  acceptedEntries = 0;
  acceptedPushes = 0;
  refusedPushes = 0;
  /** Entries in refused pushes (each retry counts again). */
  refusedEntries = 0;
  /** Uncompressed protobuf bytes of accepted pushes. */
  acceptedBytes = 0;
  /** performance.now() of every accepted push. */
  readonly acceptedAt: number[] = [];
  /** event_uid → times accepted (with `collectIds`). */
  readonly ids = new Map<string, number>();

  private constructor(private readonly options: BenchLokiOptions) {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch(() => res.destroy());
    });
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
    });
  }

  static async start(options: BenchLokiOptions = {}): Promise<BenchLoki> {
    const l = new BenchLoki(options);
    l.server.listen(0, '127.0.0.1');
    await once(l.server, 'listening');
    l.port = (l.server.address() as AddressInfo).port;
    return l;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Resolves once `count` entries were accepted; rejects after `timeoutMs`. */
  waitForEntries(count: number, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (this.acceptedEntries < count) return;
        clearTimeout(timer);
        this.listeners.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.listeners.delete(check);
        reject(new Error(`bench Loki: ${this.acceptedEntries} of ${count} entries after ${timeoutMs} ms`));
      }, timeoutMs);
      this.listeners.add(check);
      check();
    });
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((r) => this.server.close(() => r()));
    for (const s of this.sockets) s.destroy();
    this.server.closeAllConnections();
    await closed;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (req.method === 'GET' && path.endsWith('/ready')) {
      res.writeHead(200).end('ready');
      return;
    }
    if (req.method !== 'POST' || !path.endsWith('/loki/api/v1/push')) {
      res.writeHead(404).end('404 page not found\n');
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = snappy.uncompress(Buffer.concat(chunks));
    const status = this.status;
    if (status >= 200 && status < 300) {
      const ids = this.options.collectIds ? this.ids : undefined;
      this.acceptedEntries += countEntries(raw, ids);
      this.acceptedPushes += 1;
      this.acceptedBytes += raw.length;
      this.acceptedAt.push(performance.now());
      for (const l of [...this.listeners]) l();
    } else {
      this.refusedPushes += 1;
      this.refusedEntries += countEntries(raw, undefined);
    }
    res.writeHead(status, { 'content-type': 'text/plain' }).end(status >= 300 ? 'bench: refused\n' : '');
  }
}

/** A protobuf field walker over one message's bytes. */
function* fields(buf: Uint8Array, start: number, end: number): Generator<{ field: number; from: number; to: number }> {
  let pos = start;
  while (pos < end) {
    let key = 0;
    let shift = 0;
    let b: number;
    do {
      b = buf[pos++]!;
      key += (b & 0x7f) * 2 ** shift;
      shift += 7;
    } while (b & 0x80);
    const wire = key & 7;
    const field = Math.floor(key / 8);
    if (wire === 0) {
      while (buf[pos++]! & 0x80);
      continue;
    }
    if (wire !== 2) throw new Error(`unexpected wire type ${wire}`);
    let len = 0;
    shift = 0;
    do {
      b = buf[pos++]!;
      len += (b & 0x7f) * 2 ** shift;
      shift += 7;
    } while (b & 0x80);
    yield { field, from: pos, to: pos + len };
    pos += len;
  }
}

const decoder = new TextDecoder();

/** Entries in a PushRequest; with `ids`, counts each entry's event_uid there. */
function countEntries(buf: Uint8Array, ids: Map<string, number> | undefined): number {
  let n = 0;
  for (const stream of fields(buf, 0, buf.length)) {
    if (stream.field !== 1) continue;
    for (const entry of fields(buf, stream.from, stream.to)) {
      if (entry.field !== 2) continue;
      n += 1;
      if (ids) {
        for (const meta of fields(buf, entry.from, entry.to)) {
          if (meta.field !== 3) continue;
          let name = '';
          let value = '';
          for (const kv of fields(buf, meta.from, meta.to)) {
            if (kv.field === 1) name = decoder.decode(buf.subarray(kv.from, kv.to));
            else if (kv.field === 2) value = decoder.decode(buf.subarray(kv.from, kv.to));
          }
          if (name === 'event_uid') ids.set(value, (ids.get(value) ?? 0) + 1);
        }
      }
    }
  }
  return n;
}
