/**
 * Reads one JSON document (a `kubectl get events -o json` List, a JSON array) as byte chunks and
 * hands out its items as they end, so a large archive is never held whole: for an object with an
 * `items` array, each item; for a top-level array, each element. Only the bytes of one item are
 * held at a time. Anything else (a single Event, an object without `items`) is kept and parsed at
 * the end, as before. Strings and nesting are tracked byte by byte, so brackets and quotes inside
 * strings do not count.
 */

export type DocumentPiece =
  /** `item`: an element of an `items` array (an event as it is); `element`: of a top-level array; `whole`: the whole document. */
  | { readonly kind: 'item' | 'element' | 'whole'; readonly value: unknown; readonly line: number }
  | { readonly kind: 'malformed'; readonly reason: string; readonly line: number };

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;
const NEWLINE = 0x0a;

function isSpace(c: number): boolean {
  return c === 0x20 || c === NEWLINE || c === 0x0d || c === 0x09;
}

function parsed(text: string): { ok: true; value: unknown } | { ok: false; why: string } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (err) {
    return { ok: false, why: err instanceof Error ? err.message : String(err) };
  }
}

export class DocumentStream {
  private depth = 0;
  private inString = false;
  private escaped = false;
  private line: number;
  private readonly startLine: number;
  /** The top-level value: undecided until its first byte. */
  private top: 'undecided' | 'array' | 'object' | 'other' = 'undecided';
  /** Every byte so far, while the document may have to be parsed whole; undefined once streaming. */
  private whole: Buffer[] | undefined = [];
  /** Depth inside the array whose elements are handed out (1: top-level array, 2: `items`); 0: none. */
  private streamDepth = 0;
  private kind: 'item' | 'element' = 'element';
  private streamed = false;
  /** Top-level object: a key is expected next, the key read last, and whether its value comes next. */
  private expectKey = false;
  /** A key is being read: its bytes from earlier chunks, and where it starts in this one (0 if it began earlier). */
  private inKey = false;
  private keyParts: Buffer[] = [];
  private keyStart = 0;
  private lastKey = '';
  private valueNext = false;
  /** The element being read: its bytes from earlier chunks, where it starts in this one, its line, whether it is an object or array. */
  private elementParts: Buffer[] = [];
  private elementStart = -1;
  private elementLine = 0;
  private elementNested = false;
  private closed = false;
  private trailing = false;

  constructor(startLine: number) {
    this.line = startLine;
    this.startLine = startLine;
  }

  /** Reads a chunk; returns the items that ended in it. */
  feed(chunk: Buffer): DocumentPiece[] {
    const out: DocumentPiece[] = [];
    this.whole?.push(chunk);
    const n = chunk.length;
    for (let i = 0; i < n; i++) {
      const c = chunk[i] as number;
      if (c === NEWLINE) this.line += 1;
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === BACKSLASH) this.escaped = true;
        else if (c === QUOTE) {
          this.inString = false;
          if (this.inKey) this.endKey(chunk, i);
        }
        continue;
      }
      if (isSpace(c)) continue;
      if (this.closed) {
        this.trailing = true;
        continue;
      }
      if (this.depth === 0 && this.top === 'undecided') this.top = c === OPEN_ARRAY ? 'array' : c === OPEN_OBJECT ? 'object' : 'other';
      // A value begins at the depth whose elements are handed out.
      if (this.streamDepth > 0 && this.depth === this.streamDepth && this.elementStart < 0 && c !== COMMA && c !== CLOSE_ARRAY) {
        this.elementStart = i;
        this.elementLine = this.line;
        this.elementNested = c === OPEN_OBJECT || c === OPEN_ARRAY;
      }
      if (this.depth === 1 && this.top === 'object') this.atTopObject(c, i);
      switch (c) {
        case QUOTE:
          this.inString = true;
          break;
        case OPEN_OBJECT:
        case OPEN_ARRAY:
          this.depth += 1;
          if (this.depth === 1 && this.top === 'array') this.startStreaming(1, 'element');
          if (this.depth === 1 && this.top === 'object') this.expectKey = true;
          break;
        case CLOSE_OBJECT:
        case CLOSE_ARRAY:
          if (this.elementStart >= 0 && !this.elementNested && this.depth === this.streamDepth) this.endElement(chunk, i, out);
          this.depth -= 1;
          if (this.elementStart >= 0 && this.elementNested && this.depth === this.streamDepth) this.endElement(chunk, i + 1, out);
          if (this.streamDepth > 0 && this.depth < this.streamDepth) this.streamDepth = 0;
          if (this.depth <= 0) {
            this.depth = 0;
            this.closed = true;
          }
          break;
        case COMMA:
          if (this.elementStart >= 0 && !this.elementNested && this.depth === this.streamDepth) this.endElement(chunk, i, out);
          break;
      }
    }
    // What is still open continues in the next chunk.
    if (this.elementStart >= 0) {
      this.elementParts.push(Buffer.from(chunk.subarray(this.elementStart)));
      this.elementStart = 0;
    }
    if (this.inKey) {
      this.keyParts.push(Buffer.from(chunk.subarray(this.keyStart)));
      this.keyStart = 0;
    }
    return out;
  }

  /** The input ended: the document itself when it was not streamed, or what is wrong with it. */
  end(): DocumentPiece[] {
    if (!this.streamed && this.whole !== undefined) {
      const result = parsed(Buffer.concat(this.whole).toString('utf8'));
      this.whole = undefined;
      if (!result.ok) return [{ kind: 'malformed', reason: `neither one JSON document nor JSON lines: ${result.why}`, line: this.startLine }];
      return [{ kind: 'whole', value: result.value, line: this.startLine }];
    }
    if (this.depth > 0 || this.inString) return [{ kind: 'malformed', reason: 'neither one JSON document nor JSON lines: the document ends before it is closed', line: this.line }];
    if (this.trailing) return [{ kind: 'malformed', reason: 'neither one JSON document nor JSON lines: more after the document', line: this.line }];
    return [];
  }

  /** Tracks keys of the top-level object, to find its `items` array. */
  private atTopObject(c: number, i: number): void {
    if (this.valueNext) {
      this.valueNext = false;
      if (c === OPEN_ARRAY && this.lastKey === 'items') this.startStreaming(2, 'item');
      return;
    }
    if (c === COMMA) this.expectKey = true;
    else if (c === COLON) this.valueNext = true;
    else if (c === QUOTE && this.expectKey) {
      this.expectKey = false;
      this.inKey = true;
      this.keyStart = i + 1;
      this.keyParts = [];
    }
  }

  private endKey(chunk: Buffer, end: number): void {
    const tail = chunk.subarray(this.keyStart, end);
    this.lastKey = (this.keyParts.length === 0 ? tail : Buffer.concat([...this.keyParts, tail])).toString('utf8');
    this.inKey = false;
    this.keyStart = 0;
    this.keyParts = [];
  }

  private startStreaming(depth: number, kind: 'item' | 'element'): void {
    this.streamDepth = depth;
    this.kind = kind;
    this.streamed = true;
    this.whole = undefined;
  }

  private endElement(chunk: Buffer, end: number, out: DocumentPiece[]): void {
    const tail = chunk.subarray(this.elementStart, end);
    const text = this.elementParts.length === 0 ? tail.toString('utf8') : Buffer.concat([...this.elementParts, tail]).toString('utf8');
    this.elementParts = [];
    this.elementStart = -1;
    const result = parsed(text);
    out.push(result.ok ? { kind: this.kind, value: result.value, line: this.elementLine } : { kind: 'malformed', reason: `not valid JSON: ${result.why}`, line: this.elementLine });
  }
}
