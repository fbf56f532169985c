/**
 * Loki's push wire format, decoding side: protobufjs' Reader driven by hand (no reflection per
 * call) after snappy's raw block format, for the tests and what the package exports; the
 * sink only encodes (codec.ts).
 */
import protobuf from 'protobufjs/minimal.js';
import snappy from 'snappyjs';
import { NS_PER_SECOND, TAG_ENTRY, TAG_LABELS, TAG_LINE, TAG_METADATA, TAG_NANOS, TAG_PAIR_NAME, TAG_PAIR_VALUE, TAG_SECONDS, TAG_STREAM, TAG_TIMESTAMP, type PushEntry, type PushStream } from './codec.js';
import { PushDecodeError } from './errors.js';

/** Decompressed bodies above this are refused, so a hostile body cannot exhaust memory. */
const MAX_DECOMPRESSED_BYTES = 256 * 1024 * 1024;

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
