/**
 * An external merge sort of entries by time, for a bounded set that arrives in key or file order
 * (a list, a relist, a replay file) and must reach Loki in time order. Entries are held in memory
 * up to a byte budget; past it, the held entries are sorted and spilled as one gzip'd run to a
 * private temp directory. `drain` merges the runs and what is still held, oldest first. A set that
 * fits the budget never touches the disk. Runs beyond a fan-in limit are merged into one, so the
 * merge keeps a bounded number of files open and entries in memory.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { RETIME_REASONS, type Entry } from '../core/entry.js';

/** What a caller keeps with an entry (e.g. its watermark slot): plain JSON, it may go to disk. */
export type SortTag = number | string | boolean | null | readonly SortTag[] | { readonly [key: string]: SortTag };

export interface Sorted<T extends SortTag = number> {
  readonly entry: Entry;
  readonly tag: T;
}

export interface TimeSorterOptions {
  /** Estimated bytes of entries held in memory before a run is spilled. */
  readonly budgetBytes: number;
  /** Parent of the temp directory (default: the OS temp directory). */
  readonly dir?: string;
  /** Most runs merged at once; more are merged into one first. */
  readonly fanIn?: number;
}

/** 8 MiB of entries (~10 000 typical events) per run. */
export const DEFAULT_SORT_BUDGET_BYTES = 8 * 1024 * 1024;
const DEFAULT_FAN_IN = 16;
/** JS object overhead per entry on top of its strings (labels, metadata, bigint, wrapper). */
const ENTRY_OVERHEAD_BYTES = 400;

/** Oldest first; equal times by occurrence id, so the order is the same on every run. */
export function compareSorted(a: Sorted<SortTag>, b: Sorted<SortTag>): number {
  const x = a.entry.timestampNs;
  const y = b.entry.timestampNs;
  if (x !== y) return x < y ? -1 : 1;
  const p = a.entry.occurrenceId;
  const q = b.entry.occurrenceId;
  return p < q ? -1 : p > q ? 1 : 0;
}

function sizeOf(entry: Entry): number {
  let size = ENTRY_OVERHEAD_BYTES + 2 * (entry.line.length + entry.occurrenceId.length);
  for (const [k, v] of Object.entries(entry.labels)) size += 2 * (k.length + v.length) + 32;
  for (const [k, v] of Object.entries(entry.structuredMetadata)) size += 2 * (k.length + v.length) + 32;
  return size;
}

type RunRecord = [ts: string, tag: SortTag, labels: Entry['labels'], line: string, metadata: Entry['structuredMetadata'], id: string, retimed: string];

function encode({ entry, tag }: Sorted<SortTag>): string {
  const record: RunRecord = [entry.timestampNs.toString(), tag, entry.labels, entry.line, entry.structuredMetadata, entry.occurrenceId, entry.retimed ?? ''];
  return JSON.stringify(record) + '\n';
}

function decode<T extends SortTag>(text: string): Sorted<T> {
  const [ts, tag, labels, line, structuredMetadata, occurrenceId, retimed] = JSON.parse(text) as RunRecord;
  const reason = RETIME_REASONS.find((r) => r === retimed);
  const entry: Entry = { labels, timestampNs: BigInt(ts), line, structuredMetadata, occurrenceId, ...(reason ? { retimed: reason } : {}) };
  return { entry, tag: tag as T };
}

async function writeRun(path: string, items: AsyncIterable<Sorted<SortTag>> | Iterable<Sorted<SortTag>>): Promise<void> {
  async function* lines(): AsyncGenerator<string> {
    for await (const item of items) yield encode(item);
  }
  await pipeline(Readable.from(lines()), createGzip({ level: 1 }), createWriteStream(path));
}

async function* readRun<T extends SortTag>(path: string): AsyncGenerator<Sorted<T>> {
  const input = createReadStream(path).pipe(createGunzip());
  const lines = createInterface({ input, crlfDelay: Infinity });
  try {
    for await (const line of lines) if (line !== '') yield decode<T>(line);
  } finally {
    lines.close();
    input.destroy();
  }
}

/** K-way merge of sorted sources (k is small: a linear scan for the minimum is enough). */
async function* merge<T extends SortTag>(sources: readonly (AsyncIterator<Sorted<T>> | Iterator<Sorted<T>>)[], onHead: (delta: number) => void): AsyncGenerator<Sorted<T>> {
  const heads: (Sorted<T> | undefined)[] = [];
  for (const s of sources) {
    const r = await s.next();
    heads.push(r.done ? undefined : r.value);
    if (!r.done) onHead(1);
  }
  try {
    for (;;) {
      let min = -1;
      for (let i = 0; i < heads.length; i++) {
        const h = heads[i];
        if (h !== undefined && (min < 0 || compareSorted(h, heads[min] as Sorted<T>) < 0)) min = i;
      }
      if (min < 0) return;
      const out = heads[min] as Sorted<T>;
      const r = await (sources[min] as AsyncIterator<Sorted<T>> | Iterator<Sorted<T>>).next();
      heads[min] = r.done ? undefined : r.value;
      if (r.done) onHead(-1);
      yield out;
    }
  } finally {
    for (const s of sources) await s.return?.();
  }
}

export class TimeSorter<T extends SortTag = number> {
  private held: Sorted<T>[] = [];
  private heldBytes = 0;
  /** Spilled runs, oldest first; a run's level counts how often its entries were merged. */
  private runs: { path: string; level: number }[] = [];
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

  async add(entry: Entry, tag: T): Promise<void> {
    this.held.push({ entry, tag });
    this.heldBytes += sizeOf(entry);
    this.count += 1;
    this.track(1);
    if (this.heldBytes >= this.options.budgetBytes) await this.spill();
  }

  /**
   * Everything added so far, oldest first; the sorter is empty afterwards (also when the
   * iteration is left early: what was not taken is discarded).
   */
  async *drain(): AsyncGenerator<Sorted<T>> {
    const held = this.held.sort(compareSorted);
    const runs = this.runs.map((r) => r.path);
    this.held = [];
    this.heldBytes = 0;
    this.runs = [];
    this.count = 0;
    try {
      if (runs.length === 0) {
        for (let i = 0; i < held.length; i++) {
          const item = held[i] as Sorted<T>;
          held[i] = undefined as unknown as Sorted<T>; // let each handed-out entry go
          this.track(-1);
          yield item;
        }
        return;
      }
      const fromMemory = function* (track: (d: number) => void): Generator<Sorted<T>> {
        for (let i = 0; i < held.length; i++) {
          const item = held[i] as Sorted<T>;
          held[i] = undefined as unknown as Sorted<T>;
          if (i > 0) track(-1); // the merge counts this source's head itself
          yield item;
        }
      };
      // Held entries are counted already; the merge adds one head per run.
      if (held.length > 0) this.track(-1);
      yield* merge<T>([...runs.map((r) => readRun<T>(r)), fromMemory((d) => this.track(d))], (d) => this.track(d));
    } finally {
      this.inMemory = 0;
      await Promise.all(runs.map((r) => unlink(r).catch(() => undefined)));
    }
  }

  /** Removes the temp directory and whatever is held. */
  async dispose(): Promise<void> {
    this.held = [];
    this.heldBytes = 0;
    this.count = 0;
    this.inMemory = 0;
    const dir = this.dir;
    this.dir = undefined;
    this.runs = [];
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  }

  private track(delta: number): void {
    this.inMemory += delta;
    if (this.inMemory > this.peak) this.peak = this.inMemory;
  }

  private async spill(): Promise<void> {
    const items = this.held.sort(compareSorted);
    this.held = [];
    this.heldBytes = 0;
    this.runs.push({ path: await this.newRun(items), level: 0 });
    this.track(-items.length);
    this.spills += 1;
    // Too many files to merge at once: the last fan-in runs of one level become one run of the
    // next level (a merge tree: each entry is rewritten once per level, log(n) times at most).
    const fanIn = Math.max(2, this.options.fanIn ?? DEFAULT_FAN_IN);
    for (;;) {
      const tail = this.runs.slice(-fanIn);
      const level = tail[0]?.level;
      if (tail.length < fanIn || tail.some((r) => r.level !== level)) break;
      const paths = tail.map((r) => r.path);
      const merged = await this.newRun(merge(paths.map((p) => readRun<T>(p)), (d) => this.track(d)));
      await Promise.all(paths.map((p) => unlink(p).catch(() => undefined)));
      this.runs.splice(-fanIn, fanIn, { path: merged, level: (level ?? 0) + 1 });
    }
  }

  private async newRun(items: AsyncIterable<Sorted<T>> | Iterable<Sorted<T>>): Promise<string> {
    this.dir ??= await mkdtemp(join(this.options.dir ?? tmpdir(), 'kube-event-shipper-sort-'));
    const path = join(this.dir, `run-${++this.runCount}.jsonl.gz`);
    await writeRun(path, items);
    return path;
  }
}
