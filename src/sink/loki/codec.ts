/**
 * Loki's push wire format (see push.proto) on the fast path, encoding side: a two-pass writer, no
 * reflection per call, and snappy's raw block format (not the framed stream format). Decoding
 * (tests, and what the package exports for receivers) is in push-decode.ts.
 */
import { Buffer } from 'node:buffer';
import snappy from 'snappyjs';
import type { LabelMap } from '../../core/entry.js';

export interface PushEntry {
  /** Nanoseconds since the Unix epoch. */
  readonly timestampNs: bigint;
  readonly line: string;
  /** Structured metadata in wire order; `{}` when there is none. */
  readonly structuredMetadata: LabelMap;
}

export interface PushStream {
  /** Prometheus-syntax label string, see `formatLabels`. */
  readonly labels: string;
  readonly entries: readonly PushEntry[];
}

export const NS_PER_SECOND = 1_000_000_000n;

// Tags: field number << 3 | wire type (0 = varint, 2 = length-delimited).
export const TAG_STREAM = 10; // PushRequest.streams = 1
export const TAG_LABELS = 10; // StreamAdapter.labels = 1
export const TAG_ENTRY = 18; // StreamAdapter.entries = 2
export const TAG_TIMESTAMP = 10; // EntryAdapter.timestamp = 1
export const TAG_LINE = 18; // EntryAdapter.line = 2
export const TAG_METADATA = 26; // EntryAdapter.structuredMetadata = 3
export const TAG_PAIR_NAME = 10; // LabelPairAdapter.name = 1
export const TAG_PAIR_VALUE = 18; // LabelPairAdapter.value = 2
export const TAG_SECONDS = 8; // Timestamp.seconds = 1
export const TAG_NANOS = 16; // Timestamp.nanos = 2

/**
 * Encodes a PushRequest. Empty strings and zero numbers are left out, as proto3 encoders do.
 *
 * Two passes instead of protobufjs' Writer: the first measures every message (one UTF-8 length
 * per string), the second writes into one buffer of exactly that size. The Writer queued an
 * operation per field and copied every string twice; this is most of what encoding cost.
 */
export function encodePushRequest(streams: readonly PushStream[]): Uint8Array {
  // Per stream its body length; per entry its body length, timestamp body length, line length and
  // the body length of each metadata pair; the second pass reads them back in the same order.
  const sizes: number[] = [];
  let total = 0;
  for (const stream of streams) {
    const at = sizes.length;
    sizes.push(0);
    let streamLength = stream.labels === '' ? 0 : stringFieldSize(Buffer.byteLength(stream.labels, 'utf8'));
    for (const entry of stream.entries) {
      const [seconds, nanos] = splitTimestamp(entry.timestampNs);
      const timestampLength = (seconds === 0 ? 0 : 1 + int64Size(seconds)) + (nanos === 0 ? 0 : 1 + varintSize(nanos));
      const lineLength = Buffer.byteLength(entry.line, 'utf8');
      let entryLength = 1 + varintSize(timestampLength) + timestampLength + (lineLength === 0 ? 0 : stringFieldSize(lineLength));
      const metadata = entry.structuredMetadata;
      const pairsAt = sizes.length + 3;
      sizes.push(0, timestampLength, lineLength);
      for (const name in metadata) {
        const pairLength = pairSize(name, metadata[name] ?? '');
        sizes.push(pairLength);
        entryLength += 1 + varintSize(pairLength) + pairLength;
      }
      sizes[pairsAt - 3] = entryLength;
      streamLength += 1 + varintSize(entryLength) + entryLength;
    }
    sizes[at] = streamLength;
    total += 1 + varintSize(streamLength) + streamLength;
  }

  const out = new BufferWriter(total);
  let next = 0;
  for (const stream of streams) {
    out.tag(TAG_STREAM).varint(sizes[next++] ?? 0);
    if (stream.labels !== '') out.tag(TAG_LABELS).string(stream.labels);
    for (const entry of stream.entries) {
      const entryLength = sizes[next++] ?? 0;
      const timestampLength = sizes[next++] ?? 0;
      const lineLength = sizes[next++] ?? 0;
      out.tag(TAG_ENTRY).varint(entryLength);
      const [seconds, nanos] = splitTimestamp(entry.timestampNs);
      out.tag(TAG_TIMESTAMP).varint(timestampLength);
      if (seconds !== 0) out.tag(TAG_SECONDS).int64(seconds);
      if (nanos !== 0) out.tag(TAG_NANOS).varint(nanos);
      if (lineLength !== 0) out.tag(TAG_LINE).varint(lineLength).raw(entry.line, lineLength);
      const metadata = entry.structuredMetadata;
      for (const name in metadata) {
        const value = metadata[name] ?? '';
        out.tag(TAG_METADATA).varint(sizes[next++] ?? 0);
        if (name !== '') out.tag(TAG_PAIR_NAME).string(name);
        if (value !== '') out.tag(TAG_PAIR_VALUE).string(value);
      }
    }
  }
  return out.finish();
}

/**
 * Encodes one entry alone (an EntryAdapter message, without its tag and length): the compact
 * form the sink holds while the entry waits. The same bytes `encodePushRequest` writes for it.
 */
export function encodeEntry(entry: PushEntry): Buffer {
  const [seconds, nanos] = splitTimestamp(entry.timestampNs);
  const timestampLength = (seconds === 0 ? 0 : 1 + int64Size(seconds)) + (nanos === 0 ? 0 : 1 + varintSize(nanos));
  const lineLength = Buffer.byteLength(entry.line, 'utf8');
  let length = 1 + varintSize(timestampLength) + timestampLength + (lineLength === 0 ? 0 : stringFieldSize(lineLength));
  const metadata = entry.structuredMetadata;
  const pairs: number[] = [];
  for (const name in metadata) {
    const pairLength = pairSize(name, metadata[name] ?? '');
    pairs.push(pairLength);
    length += 1 + varintSize(pairLength) + pairLength;
  }
  const out = new BufferWriter(length);
  out.tag(TAG_TIMESTAMP).varint(timestampLength);
  if (seconds !== 0) out.tag(TAG_SECONDS).int64(seconds);
  if (nanos !== 0) out.tag(TAG_NANOS).varint(nanos);
  if (lineLength !== 0) out.tag(TAG_LINE).varint(lineLength).raw(entry.line, lineLength);
  let next = 0;
  for (const name in metadata) {
    const value = metadata[name] ?? '';
    out.tag(TAG_METADATA).varint(pairs[next++] ?? 0);
    if (name !== '') out.tag(TAG_PAIR_NAME).string(name);
    if (value !== '') out.tag(TAG_PAIR_VALUE).string(value);
  }
  return out.finish();
}

/** Room before an entry's line for its timestamp field and the line's tag and length (at most 25 bytes). */
const ENTRY_HEAD = 32;
/** Room per metadata pair besides its strings: the pair's and its two fields' tags and lengths. */
const PAIR_HEAD = 12;

/**
 * Encodes entries one by one into the bytes `encodeEntry` makes, read out as latin1 strings, in
 * one pass over each string: it is written as UTF-8 into space kept between calls and measured by
 * what was written, where `encodeEntry` measures every string (Buffer.byteLength) and then writes
 * it. The line goes in first; its length and the timestamp are then written in front of it.
 * A metadata pair of 128 bytes or more (a two-byte length) takes `encodeEntry`.
 */
export class EntryWriter {
  private buf: Buffer = Buffer.allocUnsafe(4096);
  /** UTF-8 bytes of the last entry's line. */
  lineBytes = 0;
  /** UTF-8 bytes of the last entry's metadata names and values. */
  metadataBytes = 0;
  metadataCount = 0;

  write(entry: PushEntry): string {
    const { line, structuredMetadata: metadata } = entry;
    let capacity = ENTRY_HEAD + 3 * line.length;
    for (const name in metadata) capacity += PAIR_HEAD + 3 * (name.length + (metadata[name] ?? '').length);
    if (this.buf.length < capacity) this.buf = Buffer.allocUnsafe(Math.max(capacity, 2 * this.buf.length));
    const buf = this.buf;
    const lineBytes = line === '' ? 0 : buf.write(line, ENTRY_HEAD, 'utf8');
    let pos = ENTRY_HEAD + lineBytes;
    let metadataBytes = 0;
    let metadataCount = 0;
    for (const name in metadata) {
      const value = metadata[name] ?? '';
      let p = pos + 2;
      if (name !== '') {
        buf[p] = TAG_PAIR_NAME;
        const n = buf.write(name, p + 2, 'utf8');
        buf[p + 1] = n; // wrong from 128 bytes on, when the pair is too: see below
        p += 2 + n;
        metadataBytes += n;
      }
      if (value !== '') {
        buf[p] = TAG_PAIR_VALUE;
        const n = buf.write(value, p + 2, 'utf8');
        buf[p + 1] = n;
        p += 2 + n;
        metadataBytes += n;
      }
      // A pair under 128 bytes has a one-byte length, and so have its name and value.
      const pairLength = p - pos - 2;
      if (pairLength >= 0x80) return this.slow(entry);
      buf[pos] = TAG_METADATA;
      buf[pos + 1] = pairLength;
      pos = p;
      metadataCount += 1;
    }
    const [seconds, nanos] = splitTimestamp(entry.timestampNs);
    const timestampLength = (seconds === 0 ? 0 : 1 + int64Size(seconds)) + (nanos === 0 ? 0 : 1 + varintSize(nanos));
    const start = ENTRY_HEAD - (1 + varintSize(timestampLength) + timestampLength + (lineBytes === 0 ? 0 : 1 + varintSize(lineBytes)));
    const out = new BufferWriter(ENTRY_HEAD, buf, start);
    out.tag(TAG_TIMESTAMP).varint(timestampLength);
    if (seconds !== 0) out.tag(TAG_SECONDS).int64(seconds);
    if (nanos !== 0) out.tag(TAG_NANOS).varint(nanos);
    if (lineBytes !== 0) out.tag(TAG_LINE).varint(lineBytes);
    out.end();
    this.lineBytes = lineBytes;
    this.metadataBytes = metadataBytes;
    this.metadataCount = metadataCount;
    return buf.toString('latin1', start, pos);
  }

  /** Long metadata: measured, then written, by encodeEntry. */
  private slow(entry: PushEntry): string {
    const metadata = entry.structuredMetadata;
    let metadataBytes = 0;
    let metadataCount = 0;
    for (const name in metadata) {
      metadataCount += 1;
      metadataBytes += Buffer.byteLength(name, 'utf8') + Buffer.byteLength(metadata[name] ?? '', 'utf8');
    }
    this.lineBytes = Buffer.byteLength(entry.line, 'utf8');
    this.metadataBytes = metadataBytes;
    this.metadataCount = metadataCount;
    return encodeEntry(entry).toString('latin1');
  }
}

/**
 * A PushRequest from entries encoded with `encodeEntry` and kept as latin1 strings (one char per
 * byte): the same bytes `encodePushRequest` makes from the entries themselves. Written into
 * `scratch` when it is large enough (the result is then a view of it, valid until its next use).
 */
export function encodePushRequestFromEncoded(streams: readonly { readonly labels: string; readonly entries: readonly string[] }[], scratch?: Buffer): Buffer {
  const sizes: number[] = [];
  let total = 0;
  for (const stream of streams) {
    let streamLength = stream.labels === '' ? 0 : stringFieldSize(Buffer.byteLength(stream.labels, 'utf8'));
    for (const entry of stream.entries) streamLength += 1 + varintSize(entry.length) + entry.length;
    sizes.push(streamLength);
    total += 1 + varintSize(streamLength) + streamLength;
  }
  const out = new BufferWriter(total, scratch);
  streams.forEach((stream, i) => {
    out.tag(TAG_STREAM).varint(sizes[i] ?? 0);
    if (stream.labels !== '') out.tag(TAG_LABELS).string(stream.labels);
    for (const entry of stream.entries) out.tag(TAG_ENTRY).varint(entry.length).latin1(entry);
  });
  return out.finish();
}

/** Seconds and nanos of a google.protobuf.Timestamp: nanos in [0, 1e9) also before 1970. */
function splitTimestamp(timestampNs: bigint): [seconds: number, nanos: number] {
  let seconds = timestampNs / NS_PER_SECOND;
  let nanos = timestampNs % NS_PER_SECOND;
  if (nanos < 0n) {
    nanos += NS_PER_SECOND;
    seconds -= 1n;
  }
  // |seconds| < 2^34 for any int64 nanosecond time, so a number is exact.
  return [Number(seconds), Number(nanos)];
}

/** Bytes of a varint for 0 <= n < 2^53. */
function varintSize(n: number): number {
  if (n < 0x80) return 1;
  if (n < 0x4000) return 2;
  if (n < 0x200000) return 3;
  if (n < 0x10000000) return 4;
  let size = 5;
  for (let rest = Math.floor(n / 0x800000000); rest > 0; rest = Math.floor(rest / 0x80)) size++;
  return size;
}

/** A negative int64 is its 64-bit two's complement: always ten bytes. */
function int64Size(n: number): number {
  return n < 0 ? 10 : varintSize(n);
}

function stringFieldSize(byteLength: number): number {
  return 1 + varintSize(byteLength) + byteLength;
}

function pairSize(name: string, value: string): number {
  return (name === '' ? 0 : stringFieldSize(Buffer.byteLength(name, 'utf8'))) + (value === '' ? 0 : stringFieldSize(Buffer.byteLength(value, 'utf8')));
}

/** Writes protobuf wire data into a buffer of a size known in advance. */
class BufferWriter {
  private readonly buf: Buffer;
  private pos: number;

  /** Where the writing ends: `size` bytes from the start of `scratch` (its space when large enough). */
  private readonly size: number;

  constructor(size: number, scratch?: Buffer, start = 0) {
    this.buf = scratch !== undefined && scratch.length >= size ? scratch : Buffer.allocUnsafe(size);
    this.size = size;
    this.pos = start;
  }

  tag(tag: number): this {
    this.buf[this.pos++] = tag;
    return this;
  }

  varint(n: number): this {
    const buf = this.buf;
    while (n >= 0x80) {
      buf[this.pos++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    buf[this.pos++] = n;
    return this;
  }

  int64(n: number): this {
    if (n >= 0) return this.varint(n);
    let rest = BigInt.asUintN(64, BigInt(n));
    while (rest >= 0x80n) {
      this.buf[this.pos++] = Number(rest & 0x7fn) | 0x80;
      rest >>= 7n;
    }
    this.buf[this.pos++] = Number(rest);
    return this;
  }

  /** A string whose UTF-8 length is already known. */
  raw(text: string, byteLength: number): this {
    this.pos += this.buf.write(text, this.pos, byteLength, 'utf8');
    return this;
  }

  /** Bytes kept as a latin1 string (one char per byte). */
  latin1(bytes: string): this {
    this.pos += this.buf.write(bytes, this.pos, bytes.length, 'latin1');
    return this;
  }

  string(text: string): this {
    const byteLength = Buffer.byteLength(text, 'utf8');
    return this.varint(byteLength).raw(text, byteLength);
  }

  /** Checks that exactly the announced bytes were written. */
  end(): void {
    if (this.pos !== this.size) throw new Error(`push encoder wrote ${this.pos} of ${this.size} bytes`);
  }

  finish(): Buffer {
    this.end();
    return this.size === this.buf.length ? this.buf : this.buf.subarray(0, this.size);
  }
}

/** Encodes and compresses: the body of a push request. */
export function encodePushBody(streams: readonly PushStream[]): Uint8Array {
  return snappy.compress(encodePushRequest(streams));
}
