/**
 * How the checkpoint stores occurrence ids and event uids: as 8-byte hashes, kept in memory as
 * 4-code-unit strings (cheap Map/Set keys) and written as their 8 bytes.
 *
 * Version 2 of the checkpoint hashes with MurmurHash3 x86_128 over the string's UTF-16LE bytes
 * (seed 0), keeping the first 8 bytes of its output: ~60 ns per id, where SHA-256 through
 * node:crypto cost ~1.5 µs and was 15 % of `run`'s CPU in a burst. Collision odds stay those of
 * 64 bits (~n²/2⁶⁵ within a record). Version 1 stored the first 8 bytes of SHA-256 (UTF-8); those
 * are still read (see `legacyKeyOf`) so an upgrade neither re-ships nor loses anything.
 */
import { hash } from 'node:crypto';

export const KEY_BYTES = 8;

/** Which hash the keys of a serialised record were made with. */
export type KeyHash = 'murmur3' | 'sha256';

const C1 = 0x239b961b;
const C2 = 0xab0e9789;
const C3 = 0x38b34ae5;
const C4 = 0xa1e38b93;

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** Little-endian 32-bit word `w` of the UTF-16LE bytes of `s`: code units 2w and 2w+1. */
function word(s: string, w: number): number {
  return s.charCodeAt(2 * w) | (s.charCodeAt(2 * w + 1) << 16);
}

/** Where `hash64` leaves its result: [h1, h2]. */
const words = new Uint32Array(2);

/**
 * The key of a string: the first 8 bytes of MurmurHash3_x86_128(UTF-16LE bytes of `s`, seed 0),
 * as 4 code units (bytes 0-1, 2-3, 4-5, 6-7, each pair read big-endian).
 */
export function keyOf(s: string): string {
  hash64(s, words);
  const h1 = words[0]!;
  const h2 = words[1]!;
  // Output bytes 0-7 are h1 then h2, each little-endian.
  return String.fromCharCode(
    ((h1 & 0xff) << 8) | ((h1 >>> 8) & 0xff),
    (((h1 >>> 16) & 0xff) << 8) | (h1 >>> 24),
    ((h2 & 0xff) << 8) | ((h2 >>> 8) & 0xff),
    (((h2 >>> 16) & 0xff) << 8) | (h2 >>> 24),
  );
}

/**
 * The first 64 bits of MurmurHash3_x86_128(UTF-16LE bytes of `s`, seed 0) as its two 32-bit
 * words h1 and h2, written to `out[0]` and `out[1]` (no allocation): for tables that hold hashes
 * as numbers (the replay's IdSet).
 */
export function hash64(s: string, out: Uint32Array): void {
  const len = s.length * 2;
  const blocks = len >>> 4;
  let h1 = 0;
  let h2 = 0;
  let h3 = 0;
  let h4 = 0;
  for (let b = 0; b < blocks; b++) {
    let k1 = word(s, 4 * b);
    let k2 = word(s, 4 * b + 1);
    let k3 = word(s, 4 * b + 2);
    let k4 = word(s, 4 * b + 3);
    k1 = Math.imul(rotl(Math.imul(k1, C1), 15), C2);
    h1 ^= k1;
    h1 = (Math.imul(rotl(h1, 19) + h2, 5) + 0x561ccd1b) | 0;
    k2 = Math.imul(rotl(Math.imul(k2, C2), 16), C3);
    h2 ^= k2;
    h2 = (Math.imul(rotl(h2, 17) + h3, 5) + 0x0bcaa747) | 0;
    k3 = Math.imul(rotl(Math.imul(k3, C3), 17), C4);
    h3 ^= k3;
    h3 = (Math.imul(rotl(h3, 15) + h4, 5) + 0x96cd1c35) | 0;
    k4 = Math.imul(rotl(Math.imul(k4, C4), 18), C1);
    h4 ^= k4;
    h4 = (Math.imul(rotl(h4, 13) + h1, 5) + 0x32ac3b17) | 0;
  }
  // The tail: 0 to 7 code units (an even number of bytes), as the reference reads its last bytes.
  const tail = 4 * blocks;
  const rest = s.length - 2 * tail;
  if (rest > 6) {
    const k4 = Math.imul(rotl(Math.imul(s.charCodeAt(2 * tail + 6), C4), 18), C1);
    h4 ^= k4;
  }
  if (rest > 4) {
    let k3 = s.charCodeAt(2 * tail + 4);
    if (rest > 5) k3 |= s.charCodeAt(2 * tail + 5) << 16;
    h3 ^= Math.imul(rotl(Math.imul(k3, C3), 17), C4);
  }
  if (rest > 2) {
    let k2 = s.charCodeAt(2 * tail + 2);
    if (rest > 3) k2 |= s.charCodeAt(2 * tail + 3) << 16;
    h2 ^= Math.imul(rotl(Math.imul(k2, C2), 16), C3);
  }
  if (rest > 0) {
    let k1 = s.charCodeAt(2 * tail);
    if (rest > 1) k1 |= s.charCodeAt(2 * tail + 1) << 16;
    h1 ^= Math.imul(rotl(Math.imul(k1, C1), 15), C2);
  }
  h1 ^= len;
  h2 ^= len;
  h3 ^= len;
  h4 ^= len;
  h1 = (h1 + h2 + h3 + h4) | 0;
  h2 = (h2 + h1) | 0;
  h3 = (h3 + h1) | 0;
  h4 = (h4 + h1) | 0;
  h1 = fmix(h1);
  h2 = fmix(h2);
  h3 = fmix(h3);
  h4 = fmix(h4);
  h1 = (h1 + h2 + h3 + h4) | 0;
  h2 = (h2 + h1) | 0;
  out[0] = h1;
  out[1] = h2;
}

/**
 * Marks, in front of it, a key read from a version-1 checkpoint (SHA-256). Such keys live in the
 * same table as current ones, so they age out in order with the rest, are looked up only while some
 * are left, and are written back with the hash they were made with.
 */
export const LEGACY_MARK = '\u0000';

/** A key with the legacy mark (five code units; a current key has four). */
export function isLegacyKey(key: string): boolean {
  return key.length > 4;
}

/** The key a version-1 checkpoint stored: the first 8 bytes of SHA-256 of the UTF-8 string. */
export function legacyKeyOf(s: string): string {
  return keyFromBytes(hash('sha256', s, 'buffer'), 0);
}

/** The key held in bytes `off`…`off + 7`. */
export function keyFromBytes(buf: Uint8Array, off: number): string {
  return String.fromCharCode((buf[off]! << 8) | buf[off + 1]!, (buf[off + 2]! << 8) | buf[off + 3]!, (buf[off + 4]! << 8) | buf[off + 5]!, (buf[off + 6]! << 8) | buf[off + 7]!);
}

/** Writes a key's 8 bytes at `off`. */
export function writeKey(key: string, buf: Uint8Array, off: number): void {
  for (let i = 0; i < 4; i++) {
    const u = key.charCodeAt(i);
    buf[off + 2 * i] = u >>> 8;
    buf[off + 2 * i + 1] = u & 0xff;
  }
}

/** The key's 8 bytes as hex (tests, debugging). */
export function keyHex(key: string): string {
  const buf = new Uint8Array(KEY_BYTES);
  writeKey(key, buf, 0);
  return Buffer.from(buf).toString('hex');
}

/** Whether `text` is base64 (what a serialised record must be). */
export function isBase64(text: string): boolean {
  return /^[A-Za-z0-9+/]*={0,2}$/.test(text);
}
