/**
 * Loki's push wire format (see push.proto) on the fast path: protobufjs' Writer and Reader driven by
 * hand, no reflection per call, and snappy's raw block format (not the framed stream format).
 */
import protobuf from 'protobufjs/minimal.js';
import snappy from 'snappyjs';
import type { LabelMap } from '../../core/entry.js';
import { PushDecodeError } from './errors.js';

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

const NS_PER_SECOND = 1_000_000_000n;
/** Decompressed bodies above this are refused, so a hostile body cannot exhaust memory. */
const MAX_DECOMPRESSED_BYTES = 256 * 1024 * 1024;

// Tags: field number << 3 | wire type (0 = varint, 2 = length-delimited).
const TAG_STREAM = 10; // PushRequest.streams = 1
const TAG_LABELS = 10; // StreamAdapter.labels = 1
const TAG_ENTRY = 18; // StreamAdapter.entries = 2
const TAG_TIMESTAMP = 10; // EntryAdapter.timestamp = 1
const TAG_LINE = 18; // EntryAdapter.line = 2
const TAG_METADATA = 26; // EntryAdapter.structuredMetadata = 3
const TAG_PAIR_NAME = 10; // LabelPairAdapter.name = 1
const TAG_PAIR_VALUE = 18; // LabelPairAdapter.value = 2
const TAG_SECONDS = 8; // Timestamp.seconds = 1
const TAG_NANOS = 16; // Timestamp.nanos = 2

/** Encodes a PushRequest. Empty strings and zero numbers are left out, as proto3 encoders do. */
export function encodePushRequest(streams: readonly PushStream[]): Uint8Array {
  const w = protobuf.Writer.create();
  for (const stream of streams) {
    w.uint32(TAG_STREAM).fork();
    if (stream.labels !== '') w.uint32(TAG_LABELS).string(stream.labels);
    for (const entry of stream.entries) {
      w.uint32(TAG_ENTRY).fork();
      writeEntryFields(w, entry);
      w.ldelim();
    }
    w.ldelim();
  }
  return w.finish();
}

/** Encodes one entry alone (an EntryAdapter message): the compact form the sink holds while it waits. */
export function encodeEntry(entry: PushEntry): Uint8Array {
  const w = protobuf.Writer.create();
  writeEntryFields(w, entry);
  return w.finish();
}

/** A PushRequest from entries encoded with `encodeEntry`: the same bytes `encodePushRequest` makes. */
export function encodePushRequestFromEncoded(streams: readonly { readonly labels: string; readonly entries: readonly Uint8Array[] }[]): Uint8Array {
  const w = protobuf.Writer.create();
  for (const stream of streams) {
    w.uint32(TAG_STREAM).fork();
    if (stream.labels !== '') w.uint32(TAG_LABELS).string(stream.labels);
    for (const entry of stream.entries) w.uint32(TAG_ENTRY).bytes(entry);
    w.ldelim();
  }
  return w.finish();
}

function writeEntryFields(w: protobuf.Writer, entry: PushEntry): void {
  writeTimestamp(w, entry.timestampNs);
  if (entry.line !== '') w.uint32(TAG_LINE).string(entry.line);
  const metadata = entry.structuredMetadata;
  for (const name in metadata) {
    const value = metadata[name] ?? '';
    w.uint32(TAG_METADATA).fork();
    if (name !== '') w.uint32(TAG_PAIR_NAME).string(name);
    if (value !== '') w.uint32(TAG_PAIR_VALUE).string(value);
    w.ldelim();
  }
}

function writeTimestamp(w: protobuf.Writer, timestampNs: bigint): void {
  let seconds = timestampNs / NS_PER_SECOND;
  let nanos = timestampNs % NS_PER_SECOND;
  // google.protobuf.Timestamp keeps nanos in [0, 1e9) also before 1970.
  if (nanos < 0n) {
    nanos += NS_PER_SECOND;
    seconds -= 1n;
  }
  w.uint32(TAG_TIMESTAMP).fork();
  // |seconds| < 2^34 for any int64 nanosecond time, so a number is exact.
  if (seconds !== 0n) w.uint32(TAG_SECONDS).int64(Number(seconds));
  if (nanos !== 0n) w.uint32(TAG_NANOS).int32(Number(nanos));
  w.ldelim();
}

/** Encodes and compresses: the body of a push request. */
export function encodePushBody(streams: readonly PushStream[]): Uint8Array {
  return snappy.compress(encodePushRequest(streams));
}

/** Decodes a PushRequest; throws PushDecodeError when the bytes are not one. */
export function decodePushRequest(bytes: Uint8Array): PushStream[] {
  try {
    const r = protobuf.Reader.create(bytes);
    const streams: PushStream[] = [];
    while (r.pos < r.len) {
      const tag = r.uint32();
      if (tag === TAG_STREAM) streams.push(readStream(r, r.uint32()));
      else skipField(r, tag);
    }
    return streams;
  } catch (err) {
    if (err instanceof PushDecodeError) throw err;
    throw new PushDecodeError('push body is not a valid protobuf PushRequest', { cause: err });
  }
}

/** Decompresses (raw snappy) and decodes a push body; throws PushDecodeError on bad input. */
export function decodePushBody(body: Uint8Array): PushStream[] {
  let raw: Uint8Array;
  try {
    raw = snappy.uncompress(body, MAX_DECOMPRESSED_BYTES);
  } catch (err) {
    throw new PushDecodeError('push body is not raw-snappy compressed', { cause: err });
  }
  return decodePushRequest(raw);
}

type Reader = protobuf.Reader;

function readStream(r: Reader, length: number): PushStream {
  const end = r.pos + length;
  let labels = '';
  const entries: PushEntry[] = [];
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === TAG_LABELS) labels = r.string();
    else if (tag === TAG_ENTRY) entries.push(readEntry(r, r.uint32()));
    else skipField(r, tag);
  }
  expectEnd(r, end);
  return { labels, entries };
}

function readEntry(r: Reader, length: number): PushEntry {
  const end = r.pos + length;
  let timestampNs = 0n;
  let line = '';
  // No prototype: a metadata name like `__proto__` from a body must stay a plain key.
  const structuredMetadata = Object.create(null) as Record<string, string>;
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === TAG_TIMESTAMP) timestampNs = readTimestamp(r, r.uint32());
    else if (tag === TAG_LINE) line = r.string();
    else if (tag === TAG_METADATA) {
      const [name, value] = readPair(r, r.uint32());
      structuredMetadata[name] = value;
    } else skipField(r, tag);
  }
  expectEnd(r, end);
  return { timestampNs, line, structuredMetadata };
}

function readPair(r: Reader, length: number): [string, string] {
  const end = r.pos + length;
  let name = '';
  let value = '';
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === TAG_PAIR_NAME) name = r.string();
    else if (tag === TAG_PAIR_VALUE) value = r.string();
    else skipField(r, tag);
  }
  expectEnd(r, end);
  return [name, value];
}

function readTimestamp(r: Reader, length: number): bigint {
  const end = r.pos + length;
  let seconds = 0n;
  let nanos = 0n;
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === TAG_SECONDS) seconds = longToBigInt(r.int64());
    else if (tag === TAG_NANOS) nanos = BigInt(r.int32());
    else skipField(r, tag);
  }
  expectEnd(r, end);
  return seconds * NS_PER_SECOND + nanos;
}

/** protobufjs returns a Long when the `long` package is present, else a number. */
function longToBigInt(value: { low: number; high: number } | number): bigint {
  if (typeof value === 'number') return BigInt(value);
  return BigInt.asIntN(64, (BigInt(value.high >>> 0) << 32n) | BigInt(value.low >>> 0));
}

function skipField(r: Reader, tag: number): void {
  if (tag >>> 3 === 0) throw new PushDecodeError(`invalid protobuf tag ${tag}`);
  r.skipType(tag & 7);
}

function expectEnd(r: Reader, end: number): void {
  if (r.pos !== end) throw new PushDecodeError('protobuf message overruns its length');
}
