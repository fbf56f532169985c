/**
 * The count last shipped for each event (by event uid), bounded: what the pipeline subtracts from an
 * event's cumulative count to say how many occurrences a new entry adds (the `occurrences`
 * structured metadata). Kept as 8-byte uid hashes (see id-hash.ts) with a 4-byte count, oldest
 * evicted first, and serialised to one base64 string: 20 000 events take ~320 KB. An evicted or
 * never seen event counts its whole count again (see docs/design.md, "Structured metadata").
 */
import { isBase64, isLegacyKey, KEY_BYTES, keyFromBytes, keyOf, LEGACY_MARK, legacyKeyOf, writeKey, type KeyHash } from './id-hash.js';
import { OldestFirstEviction } from './oldest-first.js';

const COUNT_BYTES = 4;
const RECORD_BYTES = KEY_BYTES + COUNT_BYTES;
/** Kubernetes counts are int32; anything above this is stored as this. */
const MAX_STORED_COUNT = 0xffff_ffff;
/**
 * An Event lives one hour after its last update (the API server's default --event-ttl), so only
 * events updated within about an hour can come again; 20 000 is far above what even a busy
 * cluster updates in an hour.
 */
export const DEFAULT_SHIPPED_COUNTS_CAPACITY = 20_000;


export class ShippedCounts {
  /** Hash → count; insertion-ordered, the first key is the least recently raised. */
  private readonly counts = new Map<string, number>();
  private readonly eviction = new OldestFirstEviction();
  /** How many keys of the table are legacy ones. */
  private legacy = 0;

  constructor(readonly capacity: number = DEFAULT_SHIPPED_COUNTS_CAPACITY) {}

  get size(): number {
    return this.counts.size;
  }

  /** The count last shipped for this event, or undefined when unknown. `key`: `keyOf(uid)`, when the caller has it. */
  get(uid: string, key = keyOf(uid)): number | undefined {
    const count = this.counts.get(key);
    return count !== undefined || this.legacy === 0 ? count : this.counts.get(LEGACY_MARK + legacyKeyOf(uid));
  }

  /**
   * How many occurrences an entry with this cumulative `count` adds: the rise over the count last
   * shipped, never below 0 (an entry whose count did not rise adds none), or the whole count for
   * an event not in the record.
   */
  occurrencesOf(uid: string, count: number, key = keyOf(uid)): number {
    const last = this.get(uid, key);
    return last === undefined ? count : Math.max(0, Math.min(count, MAX_STORED_COUNT) - last);
  }

  /** Records that `count` was shipped for this event; a lower count than the one known changes nothing. */
  raise(uid: string, count: number, key = keyOf(uid)): void {
    let stored = Math.min(Math.max(0, Math.floor(count)), MAX_STORED_COUNT);
    if (this.legacy > 0) {
      // Its legacy entry (if any) becomes a current one.
      const legacyKey = LEGACY_MARK + legacyKeyOf(uid);
      const legacyCount = this.counts.get(legacyKey);
      if (legacyCount !== undefined) {
        this.counts.delete(legacyKey);
        this.legacy -= 1;
        stored = Math.max(stored, legacyCount);
      }
    }
    this.raiseKey(key, stored);
  }

  private raiseKey(h: string, count: number): void {
    const known = this.counts.get(h);
    if (known === undefined) this.counts.set(h, count);
    else {
      this.counts.delete(h); // re-adding refreshes its age
      this.counts.set(h, Math.max(known, count));
    }
    if (this.counts.size > this.capacity) this.legacy -= this.eviction.trim(this.counts, this.capacity);
  }

  /** Every (hash, count) pair made with `hash` (by default the current one), oldest first, as one base64 string. */
  serialize(hash: KeyHash = 'murmur3'): string {
    const buf = Buffer.alloc((hash === 'murmur3' ? this.counts.size - this.legacy : this.legacy) * RECORD_BYTES);
    let off = 0;
    for (const [h, count] of this.counts) {
      if (isLegacyKey(h) !== (hash === 'sha256')) continue;
      writeKey(hash === 'sha256' ? h.slice(1) : h, buf, off);
      buf.writeUInt32BE(count, off + KEY_BYTES);
      off += RECORD_BYTES;
    }
    return buf.toString('base64');
  }

  /**
   * Adds the pairs of a `serialize()` string made with `hash`; false (and nothing added) when it is
   * not one. Load the legacy (`sha256`) ones first: they are older.
   */
  load(serialized: string, hash: KeyHash = 'murmur3'): boolean {
    if (!isShippedCounts(serialized)) return false;
    const buf = Buffer.from(serialized, 'base64');
    for (let off = 0; off < buf.length; off += RECORD_BYTES) {
      const key = keyFromBytes(buf, off);
      const count = buf.readUInt32BE(off + KEY_BYTES);
      if (hash === 'murmur3') this.raiseKey(key, count);
      else {
        if (!this.counts.has(LEGACY_MARK + key)) this.legacy += 1;
        this.raiseKey(LEGACY_MARK + key, count);
      }
    }
    return true;
  }
}

/** Whether a string has the shape `ShippedCounts.serialize()` makes. */
export function isShippedCounts(serialized: string): boolean {
  if (!isBase64(serialized)) return false;
  return Buffer.from(serialized, 'base64').length % RECORD_BYTES === 0;
}
