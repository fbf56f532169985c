/**
 * A bounded record of recently shipped occurrence ids, kept as 8-byte hashes (collision odds
 * ~n²/2⁶⁵: nil for tens of thousands). Oldest evicted first. Serialises to one base64 string,
 * so 20 000 ids take ~213 KB, well under a ConfigMap's 1 MiB.
 */
import { hash } from 'node:crypto';

const HASH_BYTES = 8;
export const DEFAULT_RECENT_CAPACITY = 20_000;

/** The stored form of an occurrence id. */
export function hashOccurrenceId(id: string): string {
  return hash('sha256', id, 'buffer').subarray(0, HASH_BYTES).toString('base64url');
}

export class RecentIds {
  /** Insertion-ordered: the first key is the oldest. */
  private readonly hashes = new Set<string>();
  /**
   * One live iterator that walks from the oldest entry on. A fresh `values()` per eviction starts
   * at the table's beginning and steps over every slot deleted since the last rehash: with 20 000
   * ids that was 10 % of `run`'s CPU in a burst. Everything behind this iterator has been evicted
   * (a refreshed id moves to the end, ahead of it), so its next value is always the oldest.
   */
  private readonly oldest = this.hashes.values();

  constructor(readonly capacity: number = DEFAULT_RECENT_CAPACITY) {}

  get size(): number {
    return this.hashes.size;
  }

  has(id: string): boolean {
    return this.hashes.has(hashOccurrenceId(id));
  }

  add(id: string): void {
    this.addHash(hashOccurrenceId(id));
  }

  private addHash(h: string): void {
    this.hashes.delete(h); // re-adding refreshes its age
    this.hashes.add(h);
    while (this.hashes.size > this.capacity) {
      const oldest = this.oldest.next();
      if (oldest.done) break;
      this.hashes.delete(oldest.value);
    }
  }

  /** All hashes, oldest first, as one base64 string. */
  serialize(): string {
    const buf = Buffer.alloc(this.hashes.size * HASH_BYTES);
    let off = 0;
    for (const h of this.hashes) {
      Buffer.from(h, 'base64url').copy(buf, off);
      off += HASH_BYTES;
    }
    return buf.toString('base64');
  }

  /** Adds the hashes of a `serialize()` string; false when it is not one. */
  load(serialized: string): boolean {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(serialized)) return false;
    const buf = Buffer.from(serialized, 'base64');
    if (buf.length % HASH_BYTES !== 0) return false;
    for (let off = 0; off < buf.length; off += HASH_BYTES) this.addHash(buf.subarray(off, off + HASH_BYTES).toString('base64url'));
    return true;
  }
}
