/**
 * The time sorter's storage: each entry (with the caller's tag) encoded once into a flat binary
 * record, held in one growing buffer while it fits the budget, written to disk as is, and read
 * back with large buffered reads. No JSON line per entry, no compression, no object per held
 * entry beyond its sort key: encoding is a few string copies, and the held entries are bytes the
 * collector never has to trace.
 *
 * Record (little-endian): u32 size of the rest | i64 time (ns) | u8 retime reason (0: none) |
 * u8 tag kind (0: f64 number, 1: JSON) | tag (f64, or u32 length + UTF-8) | u32 bytes of the
 * occurrence id | u32 bytes of the text | the text: UTF-8 of the occurrence id, the line and the
 * structured metadata values, one after the other | u32 UTF-16 length of the id | u32 of the line
 * | labels: u32 number in the label-set table (LABELS_INLINE: then JSON as u32 length + UTF-8) |
 * structured metadata: u8 pair count, then per pair the name as u8 number in the name table
 * (NAME_INLINE: then u32 length + UTF-8) and the UTF-16 length of its value.
 * The strings are decoded with one call and cut apart (a call per string cost more than the
 * decoding). Records never leave the process that wrote them, so label sets and metadata names (a
 * handful, repeated by every entry) are written as their numbers in tables the process keeps.
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
    const labelSet = labelSetNumber(entry.labels);
    const labelsJson = labelSet === LABELS_INLINE ? JSON.stringify(entry.labels) : '';
    const metadata = entry.structuredMetadata;
    const id = entry.occurrenceId;
    const line = entry.line;
    let metadataChars = 0;
    let pairs = 0;
    for (const name in metadata) {
      metadataChars += name.length + (metadata[name] as string).length;
      pairs += 1;
    }
    if (pairs > MAX_PAIRS) throw new RangeError(`structured metadata of ${pairs} pairs: at most ${MAX_PAIRS} can be sorted`);
    const most = FIXED_BYTES + 8 + 4 * 6 + 1 + 9 * pairs + UTF8_MAX * (id.length + line.length + labelsJson.length + metadataChars + (tagJson?.length ?? 0));
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
    const sizes = o;
    const text = o + 8;
    const idBytes = b.write(id, text, 'utf8');
    o = text + idBytes;
    o += b.write(line, o, 'utf8');
    for (const name in metadata) o += b.write(metadata[name] as string, o, 'utf8');
    putU32(b, sizes, idBytes);
    putU32(b, sizes + 4, o - text);
    putU32(b, o, id.length);
    putU32(b, o + 4, line.length);
    putU32(b, o + 8, labelSet);
    o += 12;
    if (labelSet === LABELS_INLINE) o = putString(b, o, labelsJson);
    b[o++] = pairs;
    for (const name in metadata) {
      const nameNumber = metadataNameNumber(name);
      b[o++] = nameNumber;
      if (nameNumber === NAME_INLINE) o = putString(b, o, name);
      putU32(b, o, (metadata[name] as string).length);
      o += 4;
    }
    putU32(b, start, o - start - 4);
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
  putU32(b, o, n);
  return o + 4 + n;
}

/** Little-endian u32 at `o`, without the checks of Buffer's methods (this runs several times per record). */
function putU32(b: Buffer, o: number, v: number): void {
  b[o] = v;
  b[o + 1] = v >>> 8;
  b[o + 2] = v >>> 16;
  b[o + 3] = v >>> 24;
}

function u32(b: Buffer, o: number): number {
  return ((b[o] as number) | ((b[o + 1] as number) << 8) | ((b[o + 2] as number) << 16)) + (b[o + 3] as number) * 0x100_0000;
}

/**
 * Label sets repeat (one per stream, and the transform hands out one shared object per set): each
 * distinct set gets a number once, found by identity (or, for an equal set in another object, by
 * its JSON), and a decoded entry gets that same object back. The table only grows (records on
 * disk may name any set), up to MAX_LABEL_SETS (a stream each, as many as Loki allows a tenant by
 * default); sets beyond are written inline as JSON. The identity cache is only a shortcut: cleared
 * when full (the transform makes new objects for the same sets once it holds too many).
 */
const MAX_LABEL_SETS = 5_000;
const LABELS_INLINE = 0xffff_ffff;
const labelSetsByObject = new Map<LabelMap, number>();
const labelSetsByJson = new Map<string, number>();
const labelSets: LabelMap[] = [];

function labelSetNumber(labels: LabelMap): number {
  const known = labelSetsByObject.get(labels);
  if (known !== undefined) return known;
  const json = JSON.stringify(labels);
  let n = labelSetsByJson.get(json);
  if (n === undefined) {
    if (labelSets.length >= MAX_LABEL_SETS) return LABELS_INLINE;
    n = labelSets.length;
    // A copy: the caller's object could be changed later.
    labelSets.push(JSON.parse(json) as LabelMap);
    labelSetsByJson.set(json, n);
  }
  if (labelSetsByObject.size >= MAX_LABEL_SETS) labelSetsByObject.clear();
  labelSetsByObject.set(labels, n);
  return n;
}

/** Structured metadata names: a few fixed ones in practice; beyond the table they are written inline. */
const NAME_INLINE = 0xff;
const MAX_PAIRS = 0xff;
const metadataNumbers = new Map<string, number>();
const metadataNames: string[] = [];

function metadataNameNumber(name: string): number {
  let n = metadataNumbers.get(name);
  if (n === undefined) {
    if (metadataNames.length >= NAME_INLINE) return NAME_INLINE;
    n = metadataNames.length;
    metadataNames.push(name);
    metadataNumbers.set(name, n);
  }
  return n;
}

/** The time of the record at `offset`. */
export function timeAt(b: Buffer, offset: number): bigint {
  return b.readBigInt64LE(offset + 4);
}

/** Where the sizes of the record at `offset` start (after its tag). */
function sizesAt(b: Buffer, offset: number): number {
  const o = offset + FIXED_BYTES;
  return b[offset + 13] === 0 ? o + 8 : o + 4 + u32(b, o);
}

/** The occurrence id of the record at `offset` (for ties on time). */
export function idAt(b: Buffer, offset: number): string {
  const o = sizesAt(b, offset);
  return b.toString('utf8', o + 8, o + 8 + u32(b, o));
}

/** Decodes the record at `offset`. */
export function decodeRecord<T extends SortTag>(b: Buffer, offset: number): Sorted<T> {
  const timestampNs = b.readBigInt64LE(offset + 4);
  const reason = b[offset + 12] ?? 0;
  let tag: SortTag;
  if (b[offset + 13] === 0) tag = b.readDoubleLE(offset + FIXED_BYTES);
  else {
    const o = offset + FIXED_BYTES;
    tag = JSON.parse(b.toString('utf8', o + 4, o + 4 + u32(b, o))) as SortTag;
  }
  const sizes = sizesAt(b, offset);
  const textStart = sizes + 8;
  const textEnd = textStart + u32(b, sizes + 4);
  const text = b.toString('utf8', textStart, textEnd);
  let o = textEnd;
  const idChars = u32(b, o);
  const lineChars = u32(b, o + 4);
  const labelSet = u32(b, o + 8);
  o += 12;
  const occurrenceId = text.slice(0, idChars);
  let at = idChars + lineChars;
  const line = text.slice(idChars, at);
  let labels: LabelMap;
  if (labelSet === LABELS_INLINE) {
    const n = u32(b, o);
    labels = JSON.parse(b.toString('utf8', o + 4, o + 4 + n)) as LabelMap;
    o += 4 + n;
  } else labels = labelSets[labelSet] as LabelMap;
  const pairs = b[o++] as number;
  const structuredMetadata: Record<string, string> = {};
  for (let p = 0; p < pairs; p++) {
    const nameNumber = b[o++] as number;
    let name: string;
    if (nameNumber === NAME_INLINE) {
      const n = u32(b, o);
      name = b.toString('utf8', o + 4, o + 4 + n);
      o += 4 + n;
    } else name = metadataNames[nameNumber] as string;
    const chars = u32(b, o);
    o += 4;
    structuredMetadata[name] = text.slice(at, at + chars);
    at += chars;
  }
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
