/**
 * An external merge sort of entries by time, for a bounded set that arrives in key or file order
 * (a list, a relist, a replay file) and must reach Loki in time order. Each entry is encoded once
 * into a binary record (sort-records.ts) and held up to a byte budget; past it, the held records
 * are sorted and written to a private temp directory as one run. `drain` merges the runs and what
 * is still held, oldest first. A set that fits the budget never touches the disk.
 *
 * Input that is already in order costs no merge: a run whose oldest entry is not older than the
 * newest of an earlier chain of runs (minus `orderSlackNs`) joins that chain, and a chain is read
 * back file after file. With a slack of Loki's out-of-order window, an archive or list that is
 * nearly in time order (a watch dump, times jittering by seconds) is read back in the order Loki
 * accepts without being merged. Beyond a fan-in limit, the last chains are merged into one, so the
 * merge keeps a bounded number of files open and entries in memory.
 */
import { mkdtemp, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Entry } from '../core/entry.js';
import { compareKeys, decodeRecord, idAt, RecordBuffer, RunReader, RunWriter, timeAt, writeRecords } from './sort-records.js';
import type { Sorted, SortedSource, SortTag } from './sort-records.js';

export { compareSorted, type Sorted, type SortTag } from './sort-records.js';

export interface TimeSorterOptions {
  /** Bytes of encoded entries held in memory before a run is spilled. */
  readonly budgetBytes: number;
  /** Parent of the temp directory (default: the OS temp directory). */
  readonly dir?: string;
  /** Most runs merged at once; more are merged into one first. */
  readonly fanIn?: number;
  /**
   * How much older than the newest entry of a chain of runs the oldest entry of the next run may
   * be and still be read back after it instead of merged (default 0: strict time order). Entries
   * then come out at most this much older than the newest handed out before them.
   */
  readonly orderSlackNs?: bigint;
}

/** 8 MiB of encoded entries (~10 000 typical events) per run. */
export const DEFAULT_SORT_BUDGET_BYTES = 8 * 1024 * 1024;
const DEFAULT_FAN_IN = 16;
/**
 * The slack for lists and replays shipped to Loki: half its out-of-order window, so an input that
 * is nearly in time order is not merged and Loki still has half the window to spare.
 */
export function orderSlackNs(outOfOrderWindowMs: number): bigint {
  return (BigInt(Math.max(0, Math.floor(outOfOrderWindowMs))) * 1_000_000n) / 2n;
}

/** Memory of one held entry besides its record: its slot in the key arrays. */
const KEY_BYTES = 32;
/** Entries a drain hands out per batch. */
const BATCH = 256;

/** Spilled runs read back one after the other: each run's oldest is not older than the chain's newest minus the slack. */
interface Chain {
  readonly paths: string[];
  /** The newest entry in the chain. */
  newestNs: bigint;
  newestId: string;
  /** How often its entries were merged. */
  readonly level: number;
}

export class TimeSorter<T extends SortTag = number> {
  private held = new RecordBuffer();
  private offsets: number[] = [];
  private times: bigint[] = [];
  /** Whether the held records are in time order as added (then a spill needs no sort). */
  private heldInOrder = true;
  private chains: Chain[] = [];
  private dir: string | undefined;
  private runCount = 0;
  private count = 0;
  /** Entries in memory now (held, plus one head per run while merging); `peakInMemory` is its maximum. */
  private inMemory = 0;
  private peak = 0;
  private spills = 0;

  constructor(private readonly options: TimeSorterOptions) {}

  /** Entries added and not yet drained. */
  get size(): number {
    return this.count;
  }

  /** The most entries held in memory at once so far (the structural bound on memory). */
  get peakInMemory(): number {
    return this.peak;
  }

  /** Runs written to disk so far. */
  get spilledRuns(): number {
    return this.spills;
  }

  /** Returns a promise only when the held records are spilled to disk (await it then). */
  add(entry: Entry, tag: T): Promise<void> | undefined {
    const n = this.offsets.length;
    if (n > 0 && this.heldInOrder) {
      const before = this.times[n - 1] as bigint;
      const ts = entry.timestampNs;
      this.heldInOrder = before < ts || (before === ts && idAt(this.held.bytes, this.offsets[n - 1] as number) <= entry.occurrenceId);
    }
    this.offsets.push(this.held.append(entry, tag));
    this.times.push(entry.timestampNs);
    this.count += 1;
    this.track(1);
    return this.held.length + KEY_BYTES * this.offsets.length >= this.options.budgetBytes ? this.spill() : undefined;
  }

  /**
   * Everything added so far, oldest first, in batches; the sorter is empty afterwards (also when
   * the iteration is left early: what was not taken is discarded).
   */
  async *drainBatches(): AsyncGenerator<Sorted<T>[]> {
    const memory = this.takeHeld();
    const chains = this.chains;
    this.chains = [];
    this.count = 0;
    const sources: SortedSource<T>[] = chains.map((c) => new RunReader<T>(c.paths));
    try {
      if (memory !== undefined) sources.push(memory);
      // Held entries are counted already; the merge adds one head per run.
      if (memory !== undefined && chains.length > 0) this.track(-1);
      yield* mergeBatches(sources, (d) => this.track(d), chains.length === 0);
    } finally {
      this.inMemory = 0;
      await Promise.all(sources.map((s) => s.close()));
      await Promise.all(chains.flatMap((c) => c.paths).map((p) => unlink(p).catch(() => undefined)));
    }
  }

  /** Everything added so far, oldest first (see `drainBatches`). */
  async *drain(): AsyncGenerator<Sorted<T>> {
    for await (const batch of this.drainBatches()) yield* batch;
  }

  /** Drops everything added (held and spilled); the sorter can be filled again. */
  async clear(): Promise<void> {
    const paths = this.chains.flatMap((c) => c.paths);
    this.chains = [];
    this.clearHeld();
    this.count = 0;
    this.inMemory = 0;
    await Promise.all(paths.map((p) => unlink(p).catch(() => undefined)));
  }

  /** Removes the temp directory and whatever is held. */
  async dispose(): Promise<void> {
    this.clearHeld();
    this.count = 0;
    this.inMemory = 0;
    const dir = this.dir;
    this.dir = undefined;
    this.chains = [];
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  }

  private track(delta: number): void {
    this.inMemory += delta;
    if (this.inMemory > this.peak) this.peak = this.inMemory;
  }

  private clearHeld(): void {
    this.held.reset();
    this.offsets = [];
    this.times = [];
    this.heldInOrder = true;
  }

  /** Offsets of the held records in time order. */
  private sortedOffsets(): number[] {
    const offsets = this.offsets;
    if (this.heldInOrder) return offsets;
    const times = this.times;
    const bytes = this.held.bytes;
    const order = offsets.map((_, i) => i);
    order.sort((i, j) => {
      const x = times[i] as bigint;
      const y = times[j] as bigint;
      if (x !== y) return x < y ? -1 : 1;
      return compareKeys(0n, idAt(bytes, offsets[i] as number), 0n, idAt(bytes, offsets[j] as number));
    });
    return order.map((i) => offsets[i] as number);
  }

  /** The held records as a sorted source (undefined when none); the sorter holds nothing afterwards. */
  private takeHeld(): SortedSource<T> | undefined {
    if (this.offsets.length === 0) return undefined;
    const offsets = this.sortedOffsets();
    // Handed over whole: the sorter may be filled again (into a new buffer) while this is drained.
    const bytes = this.held.bytes;
    this.held = new RecordBuffer();
    this.clearHeld();
    let i = 0;
    return {
      next: () => (i < offsets.length ? decodeRecord<T>(bytes, offsets[i++] as number) : undefined),
      close: () => Promise.resolve(),
    };
  }

  private async spill(): Promise<void> {
    const offsets = this.sortedOffsets();
    const src = this.held.bytes;
    let bytes = src;
    if (!this.heldInOrder) {
      const out = new RecordBuffer(src.length);
      for (const o of offsets) out.appendRaw(src, o);
      bytes = out.bytes;
    }
    const first = offsets[0] as number;
    const last = offsets[offsets.length - 1] as number;
    const oldestNs = timeAt(src, first);
    const oldestId = idAt(src, first);
    const newestNs = timeAt(src, last);
    const newestId = idAt(src, last);
    const path = await this.newRunPath();
    await writeRecords(path, bytes);
    this.track(-offsets.length);
    this.clearHeld();
    this.spills += 1;
    // In order after a chain (within the slack): read back after it, no merge needed.
    const slack = this.options.orderSlackNs ?? 0n;
    const chain = this.chains.find((c) => (slack > 0n ? oldestNs >= c.newestNs - slack : compareKeys(c.newestNs, c.newestId, oldestNs, oldestId) <= 0));
    if (chain !== undefined) {
      chain.paths.push(path);
      if (compareKeys(chain.newestNs, chain.newestId, newestNs, newestId) < 0) {
        chain.newestNs = newestNs;
        chain.newestId = newestId;
      }
      return;
    }
    this.chains.push({ paths: [path], newestNs, newestId, level: 0 });
    // Too many files to merge at once: the last fan-in chains of one level become one chain of the
    // next level (a merge tree: each entry is rewritten once per level, log(n) times at most).
    const fanIn = Math.max(2, this.options.fanIn ?? DEFAULT_FAN_IN);
    for (;;) {
      const tail = this.chains.slice(-fanIn);
      const level = tail[0]?.level ?? 0;
      if (tail.length < fanIn || tail.some((c) => c.level !== level)) break;
      const merged = await this.newRunPath();
      const writer = await RunWriter.create(merged);
      const readers = tail.map((c) => new RunReader<T>(c.paths));
      try {
        for await (const batch of mergeBatches<T>(readers, (d) => this.track(d), false)) {
          for (const item of batch) {
            const writing = writer.add(item);
            if (writing !== undefined) await writing;
          }
        }
      } finally {
        await writer.close();
        await Promise.all(readers.map((r) => r.close()));
      }
      await Promise.all(tail.flatMap((c) => c.paths).map((p) => unlink(p).catch(() => undefined)));
      const top = tail.reduce((a, c) => (compareKeys(a.newestNs, a.newestId, c.newestNs, c.newestId) >= 0 ? a : c));
      this.chains.splice(-fanIn, fanIn, { paths: [merged], newestNs: top.newestNs, newestId: top.newestId, level: level + 1 });
    }
  }

  private async newRunPath(): Promise<string> {
    this.dir ??= await mkdtemp(join(this.options.dir ?? tmpdir(), 'kube-event-shipper-sort-'));
    return join(this.dir, `run-${++this.runCount}.bin`);
  }
}

/**
 * K-way merge of sorted sources (k is small: a linear scan for the minimum is enough), handed out
 * in batches: one async step per batch, and per refill of a run's read buffer, not per entry.
 * `onHead` counts the heads held; `counted` says the sources' entries are counted in memory already.
 */
async function* mergeBatches<T extends SortTag>(sources: readonly SortedSource<T>[], onHead: (delta: number) => void, counted: boolean): AsyncGenerator<Sorted<T>[]> {
  const heads: (Sorted<T> | undefined)[] = [];
  for (const s of sources) {
    const r = await s.next();
    heads.push(r);
    if (r !== undefined && !counted) onHead(1);
  }
  let batch: Sorted<T>[] = [];
  for (;;) {
    let min = -1;
    let best: Sorted<T> | undefined;
    for (let i = 0; i < heads.length; i++) {
      const h = heads[i];
      if (h !== undefined && (best === undefined || compareKeys(h.entry.timestampNs, h.entry.occurrenceId, best.entry.timestampNs, best.entry.occurrenceId) < 0)) {
        min = i;
        best = h;
      }
    }
    if (best === undefined) break;
    let r = (sources[min] as SortedSource<T>).next();
    if (r instanceof Promise) r = await r;
    heads[min] = r;
    if (r === undefined || counted) onHead(-1);
    batch.push(best);
    if (batch.length >= BATCH) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}
