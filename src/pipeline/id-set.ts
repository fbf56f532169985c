/**
 * A set of strings kept as 64-bit hashes in flat typed arrays (open addressing), for the ids a
 * replay has seen: 16–32 bytes per id instead of a JS string and a Set slot (~100 bytes each), so
 * a replay of a million events holds ~25 MB here, not ~100 MB. Two different ids share a hash
 * with odds ~n²/2⁶⁵ (nil for millions); such an id would be counted as a duplicate. The hash is
 * the checkpoint's (MurmurHash3, checkpoint/id-hash.ts): two FNV-1a lanes share their low bits'
 * information (bit 0 of both is the parity of the same input bits), so they held fewer than 64.
 */
import { hash64 } from '../checkpoint/id-hash.js';

/** Where the hash of the id at hand is written (see hash64). */
const words = new Uint32Array(2);

export class IdSet {
  private hi = new Uint32Array(1024);
  private lo = new Uint32Array(1024);
  /** Slot in use (hashes may be 0). */
  private used = new Uint8Array(1024);
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Adds `id`; false when it was there already. */
  add(id: string): boolean {
    if ((this.count + 1) * 2 > this.used.length) this.grow();
    hash64(id, words);
    return this.insert(words[0]!, words[1]!);
  }

  has(id: string): boolean {
    hash64(id, words);
    const a = words[0]!;
    const b = words[1]!;
    const mask = this.used.length - 1;
    for (let i = (a ^ Math.imul(b, 0x9e3779b1)) & mask; this.used[i] === 1; i = (i + 1) & mask) {
      if (this.hi[i] === a && this.lo[i] === b) return true;
    }
    return false;
  }

  private insert(a: number, b: number): boolean {
    const mask = this.used.length - 1;
    let i = (a ^ Math.imul(b, 0x9e3779b1)) & mask;
    for (; this.used[i] === 1; i = (i + 1) & mask) {
      if (this.hi[i] === a && this.lo[i] === b) return false;
    }
    this.used[i] = 1;
    this.hi[i] = a;
    this.lo[i] = b;
    this.count += 1;
    return true;
  }

  private grow(): void {
    const { hi, lo, used } = this;
    const size = used.length * 2;
    this.hi = new Uint32Array(size);
    this.lo = new Uint32Array(size);
    this.used = new Uint8Array(size);
    this.count = 0;
    for (let i = 0; i < used.length; i++) if (used[i] === 1) this.insert(hi[i] as number, lo[i] as number);
  }
}
