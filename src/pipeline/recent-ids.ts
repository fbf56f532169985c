/**
 * The pipeline's de-duplication: a bounded record of recently shipped occurrence ids, kept as
 * 8-byte hashes (see checkpoint/id-hash.ts; collision odds ~n²/2⁶⁵: nil for tens of thousands).
 * Oldest evicted first. Serialises to one base64 string, so 20 000 ids take ~213 KB, well under a
 * ConfigMap's 1 MiB.
 */
import { isBase64, KEY_BYTES, keyFromBytes, keyOf, legacyKeyOf, writeKey, type KeyHash } from '../checkpoint/id-hash.js';

export const DEFAULT_RECENT_CAPACITY = 20_000;

/**
 * Marks a key read from a version-1 checkpoint (SHA-256): such keys live in the same table, so
 * they age out in order with the rest, and are looked up only while some are left.
 */
const LEGACY = '\u0000';

export class RecentIds {
  /** Insertion-ordered: the first key is the oldest. */
  private readonly hashes = new Set<string>();
  /**
   * One live iterator that walks from the oldest entry on. A fresh `values()` per eviction starts
   * at the table's beginning and steps over every slot deleted since the last rehash: with 20 000
   * ids that was 10 % of `run`'s CPU in a burst. Everything behind this iterator has been evicted
   * (a refreshed id moves to the end, ahead of it), so its next value is always the oldest.
   * Made at the first eviction, when a fresh one starts at the oldest too: made with the empty
   * table, it kept every table the set outgrew until then (V8 links an outgrown table to its
   * successor for the iterators still on it): 0.6 MB more at 19 000 ids.
   */
  private oldest: SetIterator<string> | undefined;
  /** How many keys of the table are legacy ones. */
  private legacy = 0;

  constructor(readonly capacity: number = DEFAULT_RECENT_CAPACITY) {}

  get size(): number {
    return this.hashes.size;
  }

  /** `key`: `keyOf(id)`, when the caller has it already. */
  has(id: string, key = keyOf(id)): boolean {
    return this.hashes.has(key) || (this.legacy > 0 && this.hashes.has(LEGACY + legacyKeyOf(id)));
  }

  add(id: string, key = keyOf(id)): void {
    if (this.legacy > 0 && this.hashes.delete(LEGACY + legacyKeyOf(id))) this.legacy -= 1;
    this.addKey(key);
  }

  private addKey(h: string): void {
    this.hashes.delete(h); // re-adding refreshes its age
    this.hashes.add(h);
    while (this.hashes.size > this.capacity) {
      this.oldest ??= this.hashes.values();
      const oldest = this.oldest.next();
      if (oldest.done) break;
      this.hashes.delete(oldest.value);
      if (oldest.value.length > 4) this.legacy -= 1;
    }
  }

  /** The hashes made with `hash` (by default the current one), oldest first, as one base64 string. */
  serialize(hash: KeyHash = 'murmur3'): string {
    const buf = Buffer.alloc((hash === 'murmur3' ? this.hashes.size - this.legacy : this.legacy) * KEY_BYTES);
    let off = 0;
    for (const h of this.hashes) {
      if ((h.length > 4) !== (hash === 'sha256')) continue;
      writeKey(hash === 'sha256' ? h.slice(1) : h, buf, off);
      off += KEY_BYTES;
    }
    return buf.toString('base64');
  }

  /**
   * Adds the hashes of a `serialize()` string, made with `hash`; false when it is not one. Load the
   * legacy (`sha256`) ones first: they are older.
   */
  load(serialized: string, hash: KeyHash = 'murmur3'): boolean {
    if (!isBase64(serialized)) return false;
    const buf = Buffer.from(serialized, 'base64');
    if (buf.length % KEY_BYTES !== 0) return false;
    for (let off = 0; off < buf.length; off += KEY_BYTES) {
      const key = keyFromBytes(buf, off);
      if (hash === 'murmur3') this.addKey(key);
      else {
        if (!this.hashes.has(LEGACY + key)) this.legacy += 1;
        this.addKey(LEGACY + key);
      }
    }
    return true;
  }
}
