/**
 * Scenario 6, per-stage microbenchmarks, in-process on the same realistic events as the burst, so
 * a regression shows where it is: watch-line parsing (JSON.parse alone, the source's WatchStream
 * reading a stream from the bench API server, and client-node's Watch, the reader it replaced), transform (normalize + toEntry, logfmt), protobuf
 * encoding of 1,000-entry batches, snappy compression (snappyjs), and the Loki sink's own path
 * (encode on arrival, protobuf from held entries, its snappy). Best of a few rounds each.
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Watch } from '@kubernetes/client-node';
import snappy from 'snappyjs';
import type { Entry } from '../../../src/core/entry.js';
import { Batch, EntryEncoder, type HeldEntry } from '../../../src/sink/loki/batch.js';
import { encodePushRequest, encodePushRequestFromEncoded, type PushStream } from '../../../src/sink/loki/codec.js';
import { LOKI_SINK_DEFAULTS } from '../../../src/sink/loki/options.js';
import { SnappyCompressor } from '../../../src/sink/loki/snappy.js';
import { WatchStream } from '../../../src/source/watch-stream.js';
import { createTransformer, DEFAULT_TRANSFORM_OPTIONS } from '../../../src/transform/index.js';
import { BenchApiServer } from '../lib/api-server.js';
import type { BenchContext } from '../lib/context.js';
import { BASE_RV, EventFactory } from '../lib/events.js';
import type { Row } from '../lib/report.js';

const MB = 1024 * 1024;
const ROUNDS = 3;

/** Best (shortest) of ROUNDS runs of `fn`, in seconds. */
function best(fn: () => void): number {
  let s = Infinity;
  for (let r = 0; r < ROUNDS; r++) {
    const t = performance.now();
    fn();
    s = Math.min(s, (performance.now() - t) / 1000);
  }
  return s;
}

function rows(ctx: BenchContext, figure: string, items: number, bytes: number, seconds: number, what: string, reference?: Row['reference']): void {
  ctx.report({
    scenario: 'micro (in-process)',
    figure,
    measured: { value: items / seconds, unit: 'events/s' },
    ...(reference ? { reference } : {}),
    note: `${(bytes / MB / seconds).toFixed(1)} MiB/s of ${what}`,
  });
}

/** Streams in a push of these entries (one per label set, as the sink groups them). */
function toStreams(entries: readonly Entry[]): PushStream[] {
  const byLabels = new Map<string, PushStream['entries'][number][]>();
  for (const e of entries) {
    const key = `{${Object.entries(e.labels).sort().map(([k, v]) => `${k}="${v}"`).join(', ')}}`;
    let list = byLabels.get(key);
    if (!list) byLabels.set(key, (list = []));
    list.push({ timestampNs: e.timestampNs, line: e.line, structuredMetadata: e.structuredMetadata });
  }
  return [...byLabels].map(([labels, list]) => ({ labels, entries: list }));
}

async function watchThroughput(lines: readonly string[]): Promise<number> {
  const server = await BenchApiServer.start();
  for (const l of lines) server.append(l);
  const kc = server.kubeConfig();
  let seen = 0;
  const t = performance.now();
  await new Promise<void>((resolve, reject) => {
    const controller = new Watch(kc)
      .watch('/api/v1/events', { resourceVersion: String(BASE_RV) }, () => {
        if (++seen === lines.length) {
          resolve();
          void controller.then((c) => c?.abort());
        }
      }, (err) => (err && seen < lines.length ? reject(err as Error) : undefined))
      .catch(reject);
  });
  const seconds = (performance.now() - t) / 1000;
  await server.close();
  return seconds;
}

/** The source's own reader: every line parsed once and measured by its bytes (no read-ahead bound in the way). */
async function watchStreamThroughput(lines: readonly string[]): Promise<number> {
  const server = await BenchApiServer.start();
  for (const l of lines) server.append(l);
  const controller = new AbortController();
  const t = performance.now();
  const stream = new WatchStream(
    { pathAndQuery: `/api/v1/events?watch=true&resourceVersion=${BASE_RV}`, inactivityMs: 30_000, stallMs: 30_000, maxQueuedEvents: Infinity, maxQueuedBytes: Infinity },
    { kubeConfig: server.kubeConfig(), clock: { now: () => Date.now(), sleep: () => Promise.resolve() }, onOpen: () => undefined, onMalformed: () => undefined },
    controller.signal,
  );
  let seen = 0;
  while (seen < lines.length && (await stream.next()) !== undefined) seen += 1;
  const seconds = (performance.now() - t) / 1000;
  stream.close();
  await server.close();
  if (seen < lines.length) throw new Error(`the watch stream ended after ${seen} of ${lines.length} lines: ${stream.end.kind}`);
  return seconds;
}

export async function micro(ctx: BenchContext): Promise<void> {
  const n = ctx.quick ? 5_000 : 20_000;
  const factory = new EventFactory();
  const now = Date.now();
  const lines = Array.from({ length: n }, (_, i) => factory.watchLine(i, BASE_RV + 1 + i, now - (n - i) * 10));
  const lineBytes = lines.reduce((s, l) => s + Buffer.byteLength(l), 0);
  ctx.log(`micro: ${n} events, ${Math.round(lineBytes / n)} B per watch line`);

  const parseS = best(() => {
    for (const l of lines) JSON.parse(l);
  });
  rows(ctx, 'watch lines: JSON.parse only (the floor)', n, lineBytes, parseS, 'watch lines');
  const floorRef = { value: n / parseS, unit: 'events/s', what: 'JSON.parse' };

  let streamS = Infinity;
  for (let r = 0; r < ROUNDS; r++) streamS = Math.min(streamS, await watchStreamThroughput(lines));
  rows(ctx, 'watch lines: WatchStream over HTTP (the source)', n, lineBytes, streamS, 'watch lines', floorRef);
  let watchS = Infinity;
  for (let r = 0; r < ROUNDS; r++) watchS = Math.min(watchS, await watchThroughput(lines));
  rows(ctx, "watch lines: client-node Watch over HTTP (the reader it replaced)", n, lineBytes, watchS, 'watch lines', floorRef);

  const objects = lines.map((l) => (JSON.parse(l) as { object: unknown }).object);
  const transformer = createTransformer(DEFAULT_TRANSFORM_OPTIONS, { now: () => Date.now() });
  let entries: Entry[] = [];
  const transformS = best(() => {
    entries = [];
    for (const o of objects) {
      const r = transformer.normalize(o);
      if (!r.ok) throw new Error(`generated event rejected: ${r.reason}`);
      entries.push(transformer.toEntry(r.event));
    }
  });
  const entryBytes = entries.reduce((s, e) => s + Buffer.byteLength(e.line), 0);
  rows(ctx, 'transform (normalize + toEntry, logfmt)', n, entryBytes, transformS, 'lines out', floorRef);

  const batches: PushStream[][] = [];
  for (let i = 0; i < entries.length; i += 1000) batches.push(toStreams(entries.slice(i, i + 1000)));
  let protobufs: Uint8Array[] = [];
  const encodeS = best(() => {
    protobufs = batches.map((b) => encodePushRequest(b));
  });
  const protoBytes = protobufs.reduce((s, p) => s + p.length, 0);
  rows(ctx, 'protobuf encode (1,000-entry pushes)', n, protoBytes, encodeS, 'protobuf', floorRef);

  let compressed = 0;
  const snappyS = best(() => {
    compressed = 0;
    for (const p of protobufs) compressed += snappy.compress(p).length;
  });
  rows(ctx, 'snappy compress (snappyjs)', n, protoBytes, snappyS, 'protobuf in', floorRef);
  ctx.log(`micro: protobuf ${(protoBytes / n).toFixed(0)} B per entry, snappy ratio ${(protoBytes / compressed).toFixed(1)}×`);
  sinkStages(ctx, entries, floorRef);
  await legacyBenches(ctx);
}

/**
 * The Loki sink's own path, which the rows above do not take: each entry encoded once on arrival
 * (EntryEncoder), then per push the protobuf made from the held entries (1 MiB pushes, as the
 * default --batch-max-bytes cuts them) and compressed by the sink's SnappyCompressor.
 */
function sinkStages(ctx: BenchContext, entries: readonly Entry[], floorRef: Row['reference']): void {
  const lineBytes = entries.reduce((s, e) => s + Buffer.byteLength(e.line), 0);
  let held: HeldEntry[] = [];
  const encodeS = best(() => {
    const encoder = new EntryEncoder(true);
    held = entries.map((e) => encoder.encode(e, () => undefined));
  });
  rows(ctx, 'sink: entries encoded on arrival (EntryEncoder)', entries.length, lineBytes, encodeS, 'lines in', floorRef);
  const batches: Batch[] = [];
  for (let i = 0; i < held.length; ) {
    let bytes = 0;
    let j = i;
    for (; j < held.length && (j === i || bytes + (held[j]?.wireSize ?? 0) <= LOKI_SINK_DEFAULTS.batchMaxBytes); j++) bytes += held[j]?.wireSize ?? 0;
    batches.push(new Batch(held.slice(i, j)));
    i = j;
  }
  const streams = batches.map((b) => b.streams().map(({ labels, entries: inStream }) => ({ labels, entries: inStream.map((e) => e.encoded) })));
  let protobufs: Buffer[] = [];
  const protoS = best(() => {
    protobufs = streams.map((s) => encodePushRequestFromEncoded(s));
  });
  const protoBytes = protobufs.reduce((s, p) => s + p.length, 0);
  rows(ctx, `sink: protobuf from held entries (${batches.length} pushes of 1 MiB)`, entries.length, protoBytes, protoS, 'protobuf', floorRef);
  const compressor = new SnappyCompressor();
  const snappyS = best(() => {
    for (const p of protobufs) compressor.compress(p);
  });
  rows(ctx, "sink: snappy compress (the sink's SnappyCompressor)", entries.length, protoBytes, snappyS, 'protobuf in', floorRef);
}

/**
 * Other in-process benches (`test/bench/*.bench.ts`, default export printing free text, e.g. the
 * relist's external sort): run after the stages, their output on stderr with the progress.
 */
export async function legacyBenches(ctx: BenchContext): Promise<void> {
  const dir = join(dirname(fileURLToPath(import.meta.url)), '..');
  const write = process.stdout.write.bind(process.stdout);
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.bench.ts')).sort()) {
    ctx.log(`-- ${file}`);
    const mod = (await import(pathToFileURL(join(dir, file)).href)) as { default?: () => Promise<void> | void };
    if (typeof mod.default !== 'function') throw new Error(`${file} has no default export to run`);
    process.stdout.write = process.stderr.write.bind(process.stderr);
    try {
      await mod.default();
    } finally {
      process.stdout.write = write;
    }
  }
}
