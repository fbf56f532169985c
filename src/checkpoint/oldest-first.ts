/**
 * Keeps an insertion-ordered Set or Map of keys (RecentIds, ShippedCounts) within its capacity by
 * deleting the oldest keys first, through one live iterator. A fresh `keys()` per eviction starts
 * at the table's beginning and steps over every slot deleted since the last rehash: with 20 000
 * keys that was 10 % of `run`'s CPU in a burst. Everything behind this iterator has been evicted
 * (a refreshed key moves to the end, ahead of it), so its next key is always the oldest. It is
 * made at the first eviction, when a fresh one starts at the oldest too: made with the empty table,
 * it kept every table the Set or Map outgrew until then (V8 links an outgrown table to its
 * successor for the iterators still on it): 0.6-0.9 MB more at 19 000 keys.
 */
import { isLegacyKey } from './id-hash.js';

export class OldestFirstEviction {
  private oldest: Iterator<string> | undefined;

  /** Deletes the oldest keys of `table` (always the same one) until it holds at most `capacity`; returns how many of them were legacy keys. */
  trim(table: Set<string> | Map<string, unknown>, capacity: number): number {
    let legacy = 0;
    while (table.size > capacity) {
      this.oldest ??= table.keys();
      const oldest = this.oldest.next();
      if (oldest.done === true) break;
      table.delete(oldest.value);
      if (isLegacyKey(oldest.value)) legacy += 1;
    }
    return legacy;
  }
}
