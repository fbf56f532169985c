/**
 * The newest entry time written to each Loki stream, and the out-of-order rule a stock Loki 3
 * applies with it: an entry more than the window (1 h by default: max_chunk_age / 2) older than the
 * newest entry its stream holds is refused. An entry that would be refused is moved to the edge
 * (newest − window) rounded up to a grid of a sixth of the window, so the same occurrence moved
 * again a little later lands on the same time and Loki keeps one copy.
 *
 * Streams are few (label sets, not events) but still bounded: the least recently written are
 * forgotten first. The record persists compactly in the checkpoint (8-byte label hash + 8-byte
 * time per stream), so a restart knows what Loki holds.
 */
import { createHash } from 'node:crypto';
import type { LabelMap } from '../core/entry.js';

const HASH_BYTES = 8;
const RECORD_BYTES = HASH_BYTES + 8;
/** 4 096 streams take ~87 KB in the checkpoint, within a ConfigMap next to the recent ids and counts. */
export const DEFAULT_STREAM_CAPACITY = 4_096;
const NS_PER_MS = 1_000_000n;
/** The retime edge moves in steps of window / GRID_STEPS (10 min for 1 h). */
const GRID_STEPS = 6n;

/**
 * Keys already made, by label map: the transform hands out one object per label set, so this finds
 * nearly every entry's key without sorting, stringifying and hashing its labels again.
 */
const keysByLabels = new WeakMap<LabelMap, string>();

/** Stable key of a label set, whatever the order of its names. */
export function streamKeyOf(labels: LabelMap): string {
  let key = keysByLabels.get(labels);
  if (key === undefined) {
    key = makeStreamKey(labels);
    keysByLabels.set(labels, key);
  }
  return key;
}

function makeStreamKey(labels: LabelMap): string {
  const names = Object.keys(labels).sort();
  const canonical = names.map((n) => `${n}=${JSON.stringify(labels[n])}`).join(',');
  return createHash('sha256').update(canonical).digest().subarray(0, HASH_BYTES).toString('base64url');
}

export class StreamTimes {
  /** Stream key → newest time written (ns); insertion order = least recently written first. */
  private readonly newest = new Map<string, bigint>();
  private readonly windowNs: bigint;
  private readonly gridNs: bigint;

  constructor(
    windowMs: number,
    readonly capacity: number = DEFAULT_STREAM_CAPACITY,
  ) {
    this.windowNs = BigInt(Math.floor(windowMs)) * NS_PER_MS;
    this.gridNs = this.windowNs / GRID_STEPS > 0n ? this.windowNs / GRID_STEPS : 1n;
  }

  get size(): number {
    return this.newest.size;
  }

  /** The newest time written to the stream, if known. */
  newestOf(key: string): bigint | undefined {
    return this.newest.get(key);
  }

  /**
   * Where an entry of the stream at `timestampNs` can go: `timestampNs` itself when Loki accepts it,
   * else the edge (newest − window) rounded up to the grid — never later than the newest time.
   */
  placeOf(key: string, timestampNs: bigint): bigint {
    const newest = this.newest.get(key);
    if (newest === undefined) return timestampNs;
    const edge = newest - this.windowNs;
    if (timestampNs >= edge) return timestampNs;
    const rest = ((edge % this.gridNs) + this.gridNs) % this.gridNs;
    const up = rest === 0n ? edge : edge - rest + this.gridNs;
    return up <= newest ? up : edge;
  }

  /** An entry of the stream was written at `timestampNs`. */
  note(key: string, timestampNs: bigint): void {
    const before = this.newest.get(key);
    if (before !== undefined && before >= timestampNs) return;
    this.newest.delete(key);
    this.newest.set(key, timestampNs);
    while (this.newest.size > this.capacity) {
      const oldest = this.newest.keys().next();
      if (oldest.done) break;
      this.newest.delete(oldest.value);
    }
  }

  /** Every stream, least recently written first, as one base64 string. */
  serialize(): string {
    const buf = Buffer.alloc(this.newest.size * RECORD_BYTES);
    let off = 0;
    for (const [key, ns] of this.newest) {
      Buffer.from(key, 'base64url').copy(buf, off);
      buf.writeBigInt64BE(ns, off + HASH_BYTES);
      off += RECORD_BYTES;
    }
    return buf.toString('base64');
  }

  /** Merges a `serialize()` string (keeping the newer time per stream); false when it is not one. */
  load(serialized: string): boolean {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(serialized)) return false;
    const buf = Buffer.from(serialized, 'base64');
    if (buf.length % RECORD_BYTES !== 0) return false;
    for (let off = 0; off < buf.length; off += RECORD_BYTES) {
      this.note(buf.subarray(off, off + HASH_BYTES).toString('base64url'), buf.readBigInt64BE(off + HASH_BYTES));
    }
    return true;
  }
}
