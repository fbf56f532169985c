/**
 * The time sorter's storage: each entry (with the caller's tag) encoded once into a flat binary
 * record, held in one growing buffer while it fits the budget, written to disk as is, and read
 * back with large buffered reads. No JSON line per entry, no compression, no object per held
 * entry beyond its sort key: encoding is a few string copies, and the held entries are bytes the
 * collector never has to trace.
 *
 * Record (little-endian): u32 size of the rest | i64 time (ns) | u8 retime reason (0: none) |
 * u8 tag kind (0: f64 number, 1: JSON) | tag (f64, or u32 length + UTF-8) | then four strings
 * as u32 length + UTF-8: occurrence id, line, labels JSON, structured metadata JSON.
 */
import { open, writeFile, type FileHandle } from 'node:fs/promises';
import { RETIME_REASONS, type Entry, type LabelMap } from '../core/entry.js';

/** What a caller keeps with an entry (e.g. its watermark slot): plain JSON, it may go to disk. */
export type SortTag = number | string | boolean | null | readonly SortTag[] | { readonly [key: string]: SortTag };

export interface Sorted<T extends SortTag = number> {
  readonly entry: Entry;
  readonly tag: T;
}

/** Oldest first; equal times by occurrence id, so the order is the same on every run. */
export function compareSorted(a: Sorted<SortTag>, b: Sorted<SortTag>): number {
  return compareKeys(a.entry.timestampNs, a.entry.occurrenceId, b.entry.timestampNs, b.entry.occurrenceId);
}

/** Compares (time, occurrence id) keys. */
export function compareKeys(x: bigint, p: string, y: bigint, q: string): number {
  if (x !== y) return x < y ? -1 : 1;
  return p < q ? -1 : p > q ? 1 : 0;
}

const FIXED_BYTES = 4 + 8 + 1 + 1;
/** Upper bound of UTF-8 bytes per UTF-16 code unit. */
const UTF8_MAX = 3;

/** Appends records to a growing buffer; also what a run file is written from. */
export class RecordBuffer {
  private buf: Buffer;
  private end = 0;

  constructor(initialBytes = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  /** Bytes written. */
  get length(): number {
    return this.end;
  }

  /** The records written so far (a view: valid until the next append or reset). */
  get bytes(): Buffer {
    return this.buf.subarray(0, this.end);
  }

  reset(): void {
    this.end = 0;
  }

  /** Appends the record of `entry` and `tag`; returns its offset. */
  append(entry: Entry, tag: SortTag): number {
    const tagJson = typeof tag === 'number' ? undefined : JSON.stringify(tag);
    const labels = JSON.stringify(entry.labels);
    const metadata = JSON.stringify(entry.structuredMetadata);
    const id = entry.occurrenceId;
    const line = entry.line;
    const most = FIXED_BYTES + 8 + 4 * 5 + UTF8_MAX * (id.length + line.length + labels.length + metadata.length + (tagJson?.length ?? 0));
    this.ensure(most);
    const b = this.buf;
    const start = this.end;
    let o = start + 4;
    b.writeBigInt64LE(entry.timestampNs, o);
    o += 8;
    b[o++] = entry.retimed === undefined ? 0 : RETIME_REASONS.indexOf(entry.retimed) + 1;
    if (tagJson === undefined) {
      b[o++] = 0;
      b.writeDoubleLE(tag as number, o);
      o += 8;
    } else {
      b[o++] = 1;
      o = putString(b, o, tagJson);
    }
    o = putString(b, o, id);
    o = putString(b, o, line);
    o = putString(b, o, labels);
    o = putString(b, o, metadata);
    b.writeUInt32LE(o - start - 4, start);
    this.end = o;
    return start;
  }

  /** Appends an encoded record as it is (copying records between runs). */
  appendRaw(source: Buffer, offset: number): void {
    const size = 4 + source.readUInt32LE(offset);
    this.ensure(size);
    source.copy(this.buf, this.end, offset, offset + size);
    this.end += size;
  }

  private ensure(more: number): void {
    if (this.end + more <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.end + more));
    this.buf.copy(grown, 0, 0, this.end);
    this.buf = grown;
  }
}

function putString(b: Buffer, o: number, s: string): number {
  const n = b.write(s, o + 4, 'utf8');
  b.writeUInt32LE(n, o);
  return o + 4 + n;
}

/** Labels repeat (a stream's label set): decoded once per distinct JSON, shared afterwards. */
const MAX_SHARED_LABELS = 4_096;
const sharedLabels = new Map<string, LabelMap>();

function labelsOf(json: string): LabelMap {
  let labels = sharedLabels.get(json);
  if (labels === undefined) {
    labels = JSON.parse(json) as LabelMap;
    if (sharedLabels.size >= MAX_SHARED_LABELS) sharedLabels.clear();
    sharedLabels.set(json, labels);
  }
  return labels;
}

/** The time of the record at `offset`. */
export function timeAt(b: Buffer, offset: number): bigint {
  return b.readBigInt64LE(offset + 4);
}

/** The occurrence id of the record at `offset` (for ties on time). */
export function idAt(b: Buffer, offset: number): string {
  let o = offset + FIXED_BYTES;
  o = b[offset + 13] === 0 ? o + 8 : o + 4 + b.readUInt32LE(o);
  const n = b.readUInt32LE(o);
  return b.toString('utf8', o + 4, o + 4 + n);
}

/** Decodes the record at `offset`. */
export function decodeRecord<T extends SortTag>(b: Buffer, offset: number): Sorted<T> {
  const timestampNs = b.readBigInt64LE(offset + 4);
  const reason = b[offset + 12] ?? 0;
  let o = offset + FIXED_BYTES;
  let tag: SortTag;
  if (b[offset + 13] === 0) {
    tag = b.readDoubleLE(o);
    o += 8;
  } else {
    const n = b.readUInt32LE(o);
    tag = JSON.parse(b.toString('utf8', o + 4, o + 4 + n)) as SortTag;
    o += 4 + n;
  }
  let n = b.readUInt32LE(o);
  const occurrenceId = b.toString('utf8', o + 4, o + 4 + n);
  o += 4 + n;
  n = b.readUInt32LE(o);
  const line = b.toString('utf8', o + 4, o + 4 + n);
  o += 4 + n;
  n = b.readUInt32LE(o);
  const labels = labelsOf(b.toString('utf8', o + 4, o + 4 + n));
  o += 4 + n;
  n = b.readUInt32LE(o);
  const structuredMetadata = JSON.parse(b.toString('utf8', o + 4, o + 4 + n)) as LabelMap;
  const retimed = reason === 0 ? undefined : RETIME_REASONS[reason - 1];
  const entry: Entry = retimed === undefined ? { labels, timestampNs, line, structuredMetadata, occurrenceId } : { labels, timestampNs, line, structuredMetadata, occurrenceId, retimed };
  return { entry, tag: tag as T };
}

/** Where the next record starts. */
export function nextOffset(b: Buffer, offset: number): number {
  return offset + 4 + b.readUInt32LE(offset);
}

/** Something the merge takes sorted entries from; `next` answers synchronously when it can. */
export interface SortedSource<T extends SortTag> {
  next(): Sorted<T> | undefined | Promise<Sorted<T> | undefined>;
  close(): Promise<void>;
}

/** Read size of a run file: large reads, few system calls. */
const READ_BYTES = 256 * 1024;

/** Reads the records of run files, one file after the other (a chain of runs in order). */
export class RunReader<T extends SortTag> implements SortedSource<T> {
  private buf = Buffer.allocUnsafe(READ_BYTES);
  private start = 0;
  private end = 0;
  private file: FileHandle | undefined;
  private index = 0;
  private eof = false;

  constructor(private readonly paths: readonly string[]) {}

  next(): Sorted<T> | undefined | Promise<Sorted<T> | undefined> {
    if (this.whole()) return this.take();
    return this.fill();
  }

  async close(): Promise<void> {
    const file = this.file;
    this.file = undefined;
    this.eof = true;
    await file?.close();
  }

  /** Whether a whole record is buffered. */
  private whole(): boolean {
    const have = this.end - this.start;
    return have >= 4 && have >= 4 + this.buf.readUInt32LE(this.start);
  }

  private take(): Sorted<T> {
    const item = decodeRecord<T>(this.buf, this.start);
    this.start = nextOffset(this.buf, this.start);
    return item;
  }

  private async fill(): Promise<Sorted<T> | undefined> {
    while (!this.whole()) {
      if (this.eof) return undefined;
      const have = this.end - this.start;
      const need = have >= 4 ? 4 + this.buf.readUInt32LE(this.start) : READ_BYTES;
      // Keep the partial record at the front, in a larger buffer if one record needs it.
      const target = need > this.buf.length ? Buffer.allocUnsafe(need) : this.buf;
      this.buf.copy(target, 0, this.start, this.end);
      this.buf = target;
      this.start = 0;
      this.end = have;
      const read = await this.readMore();
      if (read === 0 && this.eof && !this.whole()) return undefined;
    }
    return this.take();
  }

  private async readMore(): Promise<number> {
    for (;;) {
      if (this.file === undefined) {
        const path = this.paths[this.index++];
        if (path === undefined) {
          this.eof = true;
          return 0;
        }
        this.file = await open(path, 'r');
      }
      const { bytesRead } = await this.file.read(this.buf, this.end, this.buf.length - this.end, null);
      if (bytesRead > 0) {
        this.end += bytesRead;
        return bytesRead;
      }
      await this.file.close();
      this.file = undefined;
    }
  }
}

/** Writes a run file from records handed over one by one, in large writes. */
export class RunWriter {
  private readonly pending = new RecordBuffer(1024 * 1024);
  private file: FileHandle | undefined;

  static async create(path: string): Promise<RunWriter> {
    const w = new RunWriter();
    w.file = await open(path, 'w');
    return w;
  }

  /** Returns a promise only when it writes to the file. */
  add(item: Sorted<SortTag>): Promise<void> | undefined {
    this.pending.append(item.entry, item.tag);
    return this.pending.length >= READ_BYTES * 4 ? this.flush() : undefined;
  }

  async close(): Promise<void> {
    await this.flush();
    await this.file?.close();
    this.file = undefined;
  }

  private async flush(): Promise<void> {
    if (this.pending.length === 0 || this.file === undefined) return;
    await this.file.write(this.pending.bytes);
    this.pending.reset();
  }

}

/** Writes records that are all in memory to a new run file. */
export async function writeRecords(path: string, bytes: Buffer): Promise<void> {
  await writeFile(path, bytes);
}
