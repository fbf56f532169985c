/**
 * The pipeline's de-duplication: a bounded record of recently shipped occurrence ids, kept as
 * 8-byte hashes (see checkpoint/id-hash.ts; collision odds ~n²/2⁶⁵: nil for tens of thousands).
 * Oldest evicted first. Serialises to one base64 string, so 20 000 ids take ~213 KB, well under a
 * ConfigMap's 1 MiB.
 */
import { isBase64, isLegacyKey, KEY_BYTES, keyFromBytes, keyOf, LEGACY_MARK, legacyKeyOf, writeKey, type KeyHash } from '../checkpoint/id-hash.js';
import { OldestFirstEviction } from '../checkpoint/oldest-first.js';

export const DEFAULT_RECENT_CAPACITY = 20_000;

export class RecentIds {
  /** Insertion-ordered: the first key is the oldest. */
  private readonly hashes = new Set<string>();
  private readonly eviction = new OldestFirstEviction();
  /** How many keys of the table are legacy ones. */
  private legacy = 0;

  constructor(readonly capacity: number = DEFAULT_RECENT_CAPACITY) {}

  get size(): number {
    return this.hashes.size;
  }

  /** `key`: `keyOf(id)`, when the caller has it already. */
  has(id: string, key = keyOf(id)): boolean {
    return this.hashes.has(key) || (this.legacy > 0 && this.hashes.has(LEGACY_MARK + legacyKeyOf(id)));
  }

  add(id: string, key = keyOf(id)): void {
    if (this.legacy > 0 && this.hashes.delete(LEGACY_MARK + legacyKeyOf(id))) this.legacy -= 1;
    this.addKey(key);
  }

  private addKey(h: string): void {
    this.hashes.delete(h); // re-adding refreshes its age
    this.hashes.add(h);
    if (this.hashes.size > this.capacity) this.legacy -= this.eviction.trim(this.hashes, this.capacity);
  }

  /** The hashes made with `hash` (by default the current one), oldest first, as one base64 string. */
  serialize(hash: KeyHash = 'murmur3'): string {
    const buf = Buffer.alloc((hash === 'murmur3' ? this.hashes.size - this.legacy : this.legacy) * KEY_BYTES);
    let off = 0;
    for (const h of this.hashes) {
      if (isLegacyKey(h) !== (hash === 'sha256')) continue;
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
        if (!this.hashes.has(LEGACY_MARK + key)) this.legacy += 1;
        this.addKey(LEGACY_MARK + key);
      }
    }
    return true;
  }
}
