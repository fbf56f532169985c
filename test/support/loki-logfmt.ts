/**
 * A TypeScript port, for tests only, of what Loki's `| logfmt` does to a line: the decoder Loki
 * vendors from go-logfmt (grafana/loki pkg/logql/log/logfmt/decode.go, unquote from
 * jsonstring.go) driven the way `LogfmtParser.Process` (pkg/logql/log/parser.go) drives it, in
 * its default (non-strict, drop empty) mode. It works on UTF-8 bytes, like the Go code.
 */

export interface Keyval {
  readonly key: string;
  /** undefined when the value is empty (Go's nil slice). */
  readonly value: string | undefined;
}

export class SyntaxError extends Error {
  constructor(
    readonly msg: string,
    readonly pos: number,
  ) {
    super(`logfmt syntax error at pos ${pos} : ${msg}`);
  }
}

const SPACE = 0x20;
const EQUAL = 0x3d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const RUNE_SELF = 0x80;
const REPLACEMENT = '\uFFFD';

/** One pass of the decoder over a line, as `ScanKeyval` + `Key` + `Value` + `Err`. */
export class Decoder {
  private pos = 0;
  key: Uint8Array | undefined;
  value: Uint8Array | undefined;
  err: SyntaxError | undefined;

  constructor(private readonly line: Uint8Array) {}

  eol(): boolean {
    return this.pos >= this.line.length;
  }

  /** Mirrors `ScanKeyval`: false at the end of the line or on a syntax error. */
  scanKeyval(): boolean {
    const line = this.line;
    this.key = undefined;
    this.value = undefined;

    // garbage: skip to the first byte > ' '
    while (this.pos < line.length && at(line, this.pos) <= SPACE) this.pos++;
    if (this.pos >= line.length) return false;

    // key
    const start = this.pos;
    let multibyte = false;
    for (; this.pos < line.length; this.pos++) {
      const c = at(line, this.pos);
      if (c === EQUAL) {
        if (!this.takeKey(start, multibyte)) return this.skipValue();
        if (this.key === undefined) {
          this.unexpectedByte(c);
          return this.skipValue();
        }
        return this.afterEqual();
      }
      if (c === QUOTE) {
        this.unexpectedByte(c);
        return this.skipValue();
      }
      if (c <= SPACE) return this.takeKey(start, multibyte);
      if (c >= RUNE_SELF) multibyte = true;
    }
    return this.takeKey(start, multibyte);
  }

  /** Takes the bytes from `start` as the key; false (after a syntax error) when they are not valid UTF-8. */
  private takeKey(start: number, multibyte: boolean): boolean {
    if (this.pos > start) {
      this.key = this.line.subarray(start, this.pos);
      if (multibyte && decode(this.key).includes(REPLACEMENT)) {
        this.syntaxError('invalid key');
        return false;
      }
    }
    return true;
  }

  private afterEqual(): boolean {
    const line = this.line;
    this.pos++;
    if (this.pos >= line.length) return true;
    const first = at(line, this.pos);
    if (first <= SPACE) return true;
    if (first === QUOTE) return this.quotedValue();

    const start = this.pos;
    for (; this.pos < line.length; this.pos++) {
      const c = at(line, this.pos);
      if (c === EQUAL || c === QUOTE) {
        this.unexpectedByte(c);
        return this.skipValue();
      }
      if (c <= SPACE) {
        if (this.pos > start) this.value = line.subarray(start, this.pos);
        return true;
      }
    }
    if (this.pos > start) this.value = line.subarray(start, this.pos);
    return true;
  }

  private skipValue(): false {
    while (this.pos < this.line.length && at(this.line, this.pos) > SPACE) this.pos++;
    return false;
  }

  private quotedValue(): boolean {
    const line = this.line;
    let hasEsc = false;
    let esc = false;
    const start = this.pos;
    for (let p = this.pos + 1; p < line.length; p++) {
      const c = at(line, p);
      if (esc) {
        esc = false;
      } else if (c === BACKSLASH) {
        hasEsc = true;
        esc = true;
      } else if (c === QUOTE) {
        this.pos = p + 1;
        if (hasEsc) {
          const v = unquoteBytes(line.subarray(start, this.pos));
          if (v === undefined) {
            this.syntaxError('invalid quoted value');
            return false;
          }
          this.value = v;
        } else {
          const s = start + 1;
          const end = this.pos - 1;
          if (end > s) this.value = line.subarray(s, end);
        }
        return true;
      }
    }
    this.pos = line.length;
    this.syntaxError('unterminated quoted value');
    return false;
  }

  private syntaxError(msg: string): void {
    this.err = new SyntaxError(msg, this.pos + 1);
  }

  private unexpectedByte(c: number): void {
    this.err = new SyntaxError(`unexpected ${JSON.stringify(String.fromCharCode(c))}`, this.pos + 1);
  }
}

/** Port of jsonstring.go `unquoteBytes`: the quoted value with its quotes; undefined when invalid. */
export function unquoteBytes(s: Uint8Array): Uint8Array | undefined {
  if (s.length < 2 || at(s, 0) !== QUOTE || at(s, s.length - 1) !== QUOTE) return undefined;
  const body = s.subarray(1, s.length - 1);
  const out: number[] = [];
  let r = 0;
  while (r < body.length) {
    const c = at(body, r);
    if (c === BACKSLASH) {
      r++;
      if (r >= body.length) return undefined;
      const e = at(body, r);
      switch (e) {
        case QUOTE:
        case BACKSLASH:
        case 0x2f: // '/'
        case 0x27: // '\''
          out.push(e);
          r++;
          break;
        case 0x62: out.push(0x08); r++; break; // b
        case 0x66: out.push(0x0c); r++; break; // f
        case 0x6e: out.push(0x0a); r++; break; // n
        case 0x72: out.push(0x0d); r++; break; // r
        case 0x74: out.push(0x09); r++; break; // t
        case 0x75: { // u
          r--;
          let rr = getu4(body.subarray(r));
          if (rr < 0) return undefined;
          r += 6;
          if (rr >= 0xd800 && rr < 0xe000) {
            const rr1 = getu4(body.subarray(r));
            if (rr < 0xdc00 && rr1 >= 0xdc00 && rr1 < 0xe000) {
              r += 6;
              pushRune(out, (rr - 0xd800) * 0x400 + (rr1 - 0xdc00) + 0x10000);
              break;
            }
            rr = 0xfffd;
          }
          pushRune(out, rr);
          break;
        }
        default:
          return undefined;
      }
    } else if (c === QUOTE) {
      return undefined;
    } else if (c < RUNE_SELF) {
      out.push(c);
      r++;
    } else {
      // Coerce to well-formed UTF-8, one rune (or one bad byte) at a time.
      const size = runeSize(body, r);
      if (size === 0) {
        pushRune(out, 0xfffd);
        r++;
      } else {
        for (let i = 0; i < size; i++) out.push(at(body, r + i));
        r += size;
      }
    }
  }
  return Uint8Array.from(out);
}

/**
 * What `| logfmt` adds to an entry's labels (without stream labels that would get an
 * `_extracted` suffix): key → value, last one wins, empty values and values holding U+FFFD left out,
 * and whether Loki would have set `__error__=LogfmtParserErr`.
 */
export function lokiLogfmt(line: string): { fields: Map<string, string>; error: boolean } {
  const dec = new Decoder(new TextEncoder().encode(line));
  const fields = new Map<string, string>();
  while (!dec.eol()) {
    if (!dec.scanKeyval()) continue;
    if (dec.key === undefined) continue;
    const key = sanitizeLabelKey(decode(dec.key));
    if (key === '') continue;
    let value = dec.value === undefined ? '' : decode(dec.value);
    if (value.includes(REPLACEMENT)) value = '';
    if (value === '') continue;
    fields.set(key, value);
  }
  return { fields, error: dec.err !== undefined };
}

/** Loki's `sanitizeLabelKey(key, true)`: non-word characters become '_', a leading digit gets '_'. */
export function sanitizeLabelKey(raw: string): string {
  const key = raw.trim();
  if (key === '') return key;
  let out = /^[0-9]/.test(key) ? '_' : '';
  for (const ch of key) out += /^[a-zA-Z0-9_]$/.test(ch) ? ch : '_';
  return out;
}

function at(bytes: Uint8Array, i: number): number {
  return bytes[i] ?? 0;
}

function decode(bytes: Uint8Array): string {
  return new TextDecoder('utf-8', { fatal: false }).decode(bytes);
}

function getu4(s: Uint8Array): number {
  if (s.length < 6 || at(s, 0) !== BACKSLASH || at(s, 1) !== 0x75) return -1;
  const hex = new TextDecoder().decode(s.subarray(2, 6));
  if (!/^[0-9a-fA-F]{4}$/.test(hex)) return -1;
  return parseInt(hex, 16);
}

function pushRune(out: number[], rune: number): void {
  const buf = new TextEncoder().encode(String.fromCodePoint(rune));
  for (const b of buf) out.push(b);
}

/** Length of the valid UTF-8 sequence at `i`, or 0 when it is invalid (Go's RuneError, size 1). */
function runeSize(bytes: Uint8Array, i: number): number {
  const b0 = at(bytes, i);
  const need = b0 >= 0xf0 && b0 <= 0xf4 ? 4 : b0 >= 0xe0 ? 3 : b0 >= 0xc2 && b0 < 0xe0 ? 2 : 0;
  if (need === 0 || i + need > bytes.length) return 0;
  const slice = bytes.subarray(i, i + need);
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(slice);
    return need;
  } catch {
    return 0;
  }
}
