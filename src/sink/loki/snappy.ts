/**
 * Snappy's raw block format (what Loki's push API expects), compress side only. The algorithm is
 * snappyjs' port of Google's (64 KiB fragments, a hash table of 4-byte sequences, literals and
 * copies); this one keeps its hash table and output space between calls and hashes with
 * Math.imul, so compressing a 1 MiB push allocates only the result, and runs about twice as fast.
 * Decompression (the fake Loki, tests) stays with snappyjs, which also checks this one's output.
 */
import { Buffer } from 'node:buffer';

const BLOCK_SIZE = 1 << 16;
const MAX_HASH_TABLE_BITS = 14;
/** Snappy stops looking for matches this close to a fragment's end. */
const INPUT_MARGIN = 15;
/** Literals longer than this are copied with TypedArray#set instead of a loop. */
const SET_COPY_MIN = 32;

/** The worst case: literals only, with their tags, and the length varint. */
export function maxCompressedLength(inputLength: number): number {
  return 32 + inputLength + Math.floor(inputLength / 6);
}

export class SnappyCompressor {
  private readonly table = new Uint16Array(1 << MAX_HASH_TABLE_BITS);
  private out: Buffer = Buffer.alloc(0);

  /** `input` compressed, as a Buffer of exactly its length (its own memory, not a view of scratch space). */
  compress(input: Uint8Array): Buffer {
    const needed = maxCompressedLength(input.length);
    if (this.out.length < needed) this.out = Buffer.allocUnsafe(needed);
    const out = this.out;
    let op = putVarint(input.length, out, 0);
    for (let pos = 0; pos < input.length; pos += BLOCK_SIZE) {
      op = this.compressFragment(input, pos, Math.min(input.length - pos, BLOCK_SIZE), out, op);
    }
    return Buffer.from(out.subarray(0, op));
  }

  private compressFragment(input: Uint8Array, start: number, size: number, out: Uint8Array, op: number): number {
    const view = new DataView(input.buffer, input.byteOffset, input.byteLength);
    const last = input.length - 4;
    const load32 = (p: number): number => (p <= last ? view.getInt32(p, true) : tail32(input, p));
    let bits = 1;
    while (1 << bits <= size && bits <= MAX_HASH_TABLE_BITS) bits += 1;
    bits -= 1;
    const shift = 32 - bits;
    const table = this.table;
    table.fill(0, 0, 1 << bits);
    const end = start + size;
    let nextEmit = start;
    if (size >= INPUT_MARGIN) {
      const limit = end - INPUT_MARGIN;
      let ip = start + 1;
      let nextHash = hash(load32(ip), shift);
      for (;;) {
        // Find a 4-byte match, skipping faster the longer nothing matches.
        let skip = 32;
        let nextIp = ip;
        let candidate: number;
        do {
          ip = nextIp;
          const h = nextHash;
          nextIp = ip + (skip >>> 5);
          skip += 1;
          if (ip > limit) return emitLiteral(input, nextEmit, end - nextEmit, out, op);
          nextHash = hash(load32(nextIp), shift);
          candidate = start + (table[h] ?? 0);
          table[h] = ip - start;
        } while (load32(ip) !== load32(candidate));
        op = emitLiteral(input, nextEmit, ip - nextEmit, out, op);
        // Emit copies for as long as the bytes after each one match again at once.
        do {
          const base = ip;
          let matched = 4;
          while (ip + matched + 4 <= end && load32(ip + matched) === load32(candidate + matched)) matched += 4;
          while (ip + matched < end && input[ip + matched] === input[candidate + matched]) matched += 1;
          ip += matched;
          op = emitCopy(out, op, base - candidate, matched);
          nextEmit = ip;
          if (ip >= limit) return nextEmit < end ? emitLiteral(input, nextEmit, end - nextEmit, out, op) : op;
          table[hash(load32(ip - 1), shift)] = ip - 1 - start;
          const h = hash(load32(ip), shift);
          candidate = start + (table[h] ?? 0);
          table[h] = ip - start;
        } while (load32(ip) === load32(candidate));
        ip += 1;
        nextHash = hash(load32(ip), shift);
      }
    }
    return nextEmit < end ? emitLiteral(input, nextEmit, end - nextEmit, out, op) : op;
  }
}

function hash(key: number, shift: number): number {
  return Math.imul(key, 0x1e35a7bd) >>> shift;
}

/** Four bytes little-endian as an int32 near the end of the input (missing bytes read as 0). */
function tail32(a: Uint8Array, p: number): number {
  return (a[p] ?? 0) | ((a[p + 1] ?? 0) << 8) | ((a[p + 2] ?? 0) << 16) | ((a[p + 3] ?? 0) << 24);
}

function emitLiteral(input: Uint8Array, from: number, length: number, out: Uint8Array, op: number): number {
  if (length === 0) return op;
  const n = length - 1;
  if (length <= 60) {
    out[op++] = n << 2;
  } else if (length <= 256) {
    out[op++] = 60 << 2;
    out[op++] = n;
  } else if (length <= 65_536) {
    out[op++] = 61 << 2;
    out[op++] = n & 0xff;
    out[op++] = n >>> 8;
  } else {
    // Not reached with 64 KiB fragments; kept for completeness of the format.
    out[op++] = 62 << 2;
    out[op++] = n & 0xff;
    out[op++] = (n >>> 8) & 0xff;
    out[op++] = n >>> 16;
  }
  if (length >= SET_COPY_MIN) out.set(input.subarray(from, from + length), op);
  else for (let i = 0; i < length; i++) out[op + i] = input[from + i] ?? 0;
  return op + length;
}

function emitCopyUpTo64(out: Uint8Array, op: number, offset: number, length: number): number {
  if (length < 12 && offset < 2048) {
    out[op] = 1 + ((length - 4) << 2) + ((offset >>> 8) << 5);
    out[op + 1] = offset & 0xff;
    return op + 2;
  }
  out[op] = 2 + ((length - 1) << 2);
  out[op + 1] = offset & 0xff;
  out[op + 2] = offset >>> 8;
  return op + 3;
}

function emitCopy(out: Uint8Array, op: number, offset: number, length: number): number {
  while (length >= 68) {
    op = emitCopyUpTo64(out, op, offset, 64);
    length -= 64;
  }
  if (length > 64) {
    op = emitCopyUpTo64(out, op, offset, 60);
    length -= 60;
  }
  return emitCopyUpTo64(out, op, offset, length);
}

function putVarint(value: number, out: Uint8Array, op: number): number {
  while (value >= 0x80) {
    out[op++] = (value & 0x7f) | 0x80;
    value >>>= 7;
  }
  out[op++] = value;
  return op;
}
