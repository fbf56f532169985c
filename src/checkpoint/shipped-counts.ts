/**
 * The count last shipped for each event (by event uid), bounded: what the pipeline subtracts from an
 * event's cumulative count to say how many occurrences a new entry adds (the `occurrences`
 * structured metadata). Kept as 8-byte uid hashes with a 4-byte count, oldest evicted first, and
 * serialised to one base64 string: 20 000 events take ~320 KB. An evicted or never seen event
 * counts its whole count again (see docs/design.md, "Structured metadata").
 */
import { hash } from 'node:crypto';

const HASH_BYTES = 8;
const COUNT_BYTES = 4;
const RECORD_BYTES = HASH_BYTES + COUNT_BYTES;
/** Kubernetes counts are int32; anything above this is stored as this. */
const MAX_STORED_COUNT = 0xffff_ffff;
/**
 * An Event lives one hour after its last update (the API server's default --event-ttl), so only
 * events updated within about an hour can come again; 20 000 is far above what even a busy
 * cluster updates in an hour.
 */
export const DEFAULT_SHIPPED_COUNTS_CAPACITY = 20_000;

function hashUid(uid: string): string {
  return hash('sha256', uid, 'buffer').subarray(0, HASH_BYTES).toString('base64url');
}

export class ShippedCounts {
  /** Hash → count; insertion-ordered, the first key is the least recently raised. */
  private readonly counts = new Map<string, number>();
  /**
   * One live iterator from the oldest key on (see RecentIds): a fresh `keys()` per eviction steps
   * over every slot deleted since the last rehash, which made a full record slow to update.
   */
  private readonly oldest = this.counts.keys();

  constructor(readonly capacity: number = DEFAULT_SHIPPED_COUNTS_CAPACITY) {}

  get size(): number {
    return this.counts.size;
  }

  /** The count last shipped for this event, or undefined when unknown. */
  get(uid: string): number | undefined {
    return this.counts.get(hashUid(uid));
  }

  /**
   * How many occurrences an entry with this cumulative `count` adds: the rise over the count last
   * shipped, never below 0 (an entry whose count did not rise adds none), or the whole count for
   * an event not in the record.
   */
  occurrencesOf(uid: string, count: number): number {
    const last = this.get(uid);
    return last === undefined ? count : Math.max(0, Math.min(count, MAX_STORED_COUNT) - last);
  }

  /** Records that `count` was shipped for this event; a lower count than the one known changes nothing. */
  raise(uid: string, count: number): void {
    this.raiseHash(hashUid(uid), Math.min(Math.max(0, Math.floor(count)), MAX_STORED_COUNT));
  }

  private raiseHash(h: string, count: number): void {
    const known = this.counts.get(h);
    this.counts.delete(h); // re-adding refreshes its age
    this.counts.set(h, known === undefined ? count : Math.max(known, count));
    while (this.counts.size > this.capacity) {
      const oldest = this.oldest.next();
      if (oldest.done) break;
      this.counts.delete(oldest.value);
    }
  }

  /** Every (hash, count) pair, oldest first, as one base64 string. */
  serialize(): string {
    const buf = Buffer.alloc(this.counts.size * RECORD_BYTES);
    let off = 0;
    for (const [h, count] of this.counts) {
      Buffer.from(h, 'base64url').copy(buf, off);
      buf.writeUInt32BE(count, off + HASH_BYTES);
      off += RECORD_BYTES;
    }
    return buf.toString('base64');
  }

  /** Adds the pairs of a `serialize()` string; false (and nothing added) when it is not one. */
  load(serialized: string): boolean {
    if (!isShippedCounts(serialized)) return false;
    const buf = Buffer.from(serialized, 'base64');
    for (let off = 0; off < buf.length; off += RECORD_BYTES) {
      this.raiseHash(buf.subarray(off, off + HASH_BYTES).toString('base64url'), buf.readUInt32BE(off + HASH_BYTES));
    }
    return true;
  }
}

/** Whether a string has the shape `ShippedCounts.serialize()` makes. */
export function isShippedCounts(serialized: string): boolean {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(serialized)) return false;
  return Buffer.from(serialized, 'base64').length % RECORD_BYTES === 0;
}
