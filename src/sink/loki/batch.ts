/**
 * Entries as the Loki sink holds them (encoded once, on arrival) and the batch: a run of them
 * grouped into one stream per label string, each stream sorted by time, encoded and compressed
 * into a push body (as Alloy's loki.write batch.go does).
 */
import { Buffer } from 'node:buffer';
import type { Entry, LabelMap, OutcomeListener } from '../../core/entry.js';
import { encodePushRequestFromEncoded, EntryWriter } from './codec.js';
import { formatLabels, parseLabelString } from './labels.js';
import type { SentStream } from './refusals.js';
import { SnappyCompressor } from './snappy.js';

/** Bytes counted per entry on top of its strings when cutting batches: timestamp and protobuf framing. */
const ENTRY_OVERHEAD_BYTES = 16;
/**
 * Memory an entry costs while held, on top of its encoded bytes and its occurrence id: the
 * HeldEntry record, the bigint time, the caller's outcome callback and its bookkeeping of the
 * entry (the pipeline's in-flight id). Measured with test/sink/queue-memory.test.ts.
 */
export const HELD_OVERHEAD_BYTES = 720;
/** Distinct label strings kept for sharing between held entries; past this the table starts over. */
const MAX_SHARED_LABEL_STRINGS = 10_000;

/**
 * An entry while the sink holds it: encoded as its protobuf bytes (the Entry object, its label and
 * metadata objects and strings are let go), with the few fields the sink still needs.
 */
export interface HeldEntry {
  readonly occurrenceId: string;
  readonly onOutcome: OutcomeListener;
  /** The stream's label string, shared by the entries of one stream. */
  readonly labels: string;
  readonly timestampNs: bigint;
  /**
   * The entry as an EntryAdapter message (structured metadata left out when switched off), its
   * bytes kept as a one-byte (latin1) string: a byte per byte, counted exactly by the garbage
   * collector. A Buffer would be a slice of a shared 8 KiB pool slab and keep the whole slab alive
   * (measured: 1.4 KB retained per 380-byte entry).
   */
  readonly encoded: string;
  readonly lineBytes: number;
  readonly metadataCount: number;
  readonly metadataBytes: number;
  /** For batches: line + structured metadata (when sent) + label string, UTF-8 bytes, plus 16. */
  readonly wireSize: number;
  /** For the queue cap: what holding it costs in memory (encoded bytes + id + fixed overhead). */
  readonly size: number;
  /** Order of acceptance; outcomes come in this order. 0 until the queue admits it. */
  seq: number;
  enqueuedAt: number;
}

/** Turns entries into HeldEntry records, sharing one label string per stream between them. */
export class EntryEncoder {
  private readonly sharedLabels = new Map<string, SharedLabels>();
  /** The transform hands out one label object per label set: most entries are answered by identity. */
  private readonly labelsByMap = new WeakMap<LabelMap, SharedLabels>();
  private readonly writer = new EntryWriter();

  constructor(private readonly structuredMetadata: boolean) {}

  encode(entry: Entry, onOutcome: OutcomeListener): HeldEntry {
    const labels = this.labelsByMap.get(entry.labels) ?? this.shareLabels(entry.labels);
    const writer = this.writer;
    const encoded = writer.write(this.structuredMetadata ? entry : { timestampNs: entry.timestampNs, line: entry.line, structuredMetadata: {} });
    return {
      occurrenceId: entry.occurrenceId,
      onOutcome,
      labels: labels.text,
      timestampNs: entry.timestampNs,
      encoded,
      lineBytes: writer.lineBytes,
      metadataCount: writer.metadataCount,
      metadataBytes: writer.metadataBytes,
      wireSize: ENTRY_OVERHEAD_BYTES + labels.bytes + writer.lineBytes + writer.metadataBytes,
      // A one-byte JS string costs a byte per character (two-byte strings are rare in ids).
      size: encoded.length + entry.occurrenceId.length + HELD_OVERHEAD_BYTES,
      seq: 0,
      enqueuedAt: 0,
    };
  }

  private shareLabels(map: LabelMap): SharedLabels {
    const text = formatLabels(map);
    let shared = this.sharedLabels.get(text);
    if (shared === undefined) {
      if (this.sharedLabels.size >= MAX_SHARED_LABEL_STRINGS) this.sharedLabels.clear();
      shared = { text, bytes: Buffer.byteLength(text, 'utf8') };
      this.sharedLabels.set(text, shared);
    }
    this.labelsByMap.set(map, shared);
    return shared;
  }
}

/** A stream's label string, shared by its entries, and its UTF-8 length. */
interface SharedLabels {
  readonly text: string;
  readonly bytes: number;
}

interface Stream {
  readonly labels: string;
  readonly entries: HeldEntry[];
}

/** Entries pushed together, in acceptance order; outcomes are reported in that order. */
export class Batch {
  private grouped: Stream[] | undefined;

  constructor(readonly entries: readonly HeldEntry[]) {}

  get length(): number {
    return this.entries.length;
  }

  /** The batch as Loki will see it: one stream per label string, entries sorted by time. */
  streams(): readonly Stream[] {
    if (this.grouped !== undefined) return this.grouped;
    const byLabels = new Map<string, HeldEntry[]>();
    for (const entry of this.entries) {
      const stream = byLabels.get(entry.labels);
      if (stream === undefined) byLabels.set(entry.labels, [entry]);
      else stream.push(entry);
    }
    const streams: Stream[] = [];
    for (const [labels, entries] of byLabels) {
      // Array#sort is stable: equal timestamps keep their order of acceptance.
      entries.sort((a, b) => (a.timestampNs < b.timestampNs ? -1 : a.timestampNs > b.timestampNs ? 1 : 0));
      streams.push({ labels, entries });
    }
    this.grouped = streams;
    return streams;
  }

  /** The push body: the PushRequest protobuf, snappy-compressed. */
  encode(encoder: PushBodyEncoder): Buffer {
    return encoder.encode(this.streams().map(({ labels, entries }) => ({ labels, entries: entries.map((e) => e.encoded) })));
  }

  /** Two batches of half the entries each, in order (for a push refused as too large). */
  halves(): [Batch, Batch] {
    const middle = Math.ceil(this.entries.length / 2);
    return [new Batch(this.entries.slice(0, middle)), new Batch(this.entries.slice(middle))];
  }

  /** The streams as sent, for reading a 400: each entry with its index in the batch. */
  sentStreams(): SentStream[] {
    const indexOf = new Map<HeldEntry, number>(this.entries.map((entry, i) => [entry, i]));
    return this.streams().map(({ labels, entries }) => ({
      labels: labelMapOf(labels),
      labelString: labels,
      entries: entries.map((entry) => ({ index: indexOf.get(entry) ?? -1, timestampNs: entry.timestampNs, lineBytes: entry.lineBytes, metadataCount: entry.metadataCount, metadataBytes: entry.metadataBytes })),
    }));
  }
}

/**
 * Encodes push bodies in space kept from one batch to the next: the protobuf is written into a
 * scratch buffer and compressed from there, so a 1 MiB batch allocates only its compressed body
 * (~5× smaller) instead of the protobuf, snappy's worst case and the body.
 */
export class PushBodyEncoder {
  private scratch: Buffer = Buffer.alloc(0);
  private readonly compressor = new SnappyCompressor();

  encode(streams: readonly { readonly labels: string; readonly entries: readonly string[] }[]): Buffer {
    const protobuf = encodePushRequestFromEncoded(streams, this.scratch);
    // Keep the largest protobuf's space; a batch is capped (--batch-max-bytes), so this is bounded.
    if (protobuf.buffer !== this.scratch.buffer) this.scratch = protobuf;
    return this.compressor.compress(protobuf);
  }
}

function labelMapOf(labelString: string): LabelMap {
  try {
    return Object.fromEntries(parseLabelString(labelString).labels);
  } catch {
    return {};
  }
}
