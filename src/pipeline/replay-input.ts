/**
 * Streams what `replay` is given and yields Event candidates. The format is told by the first
 * non-blank line: if it is a whole JSON value the input is JSON lines (Events or watch events, one
 * per line, read as they come); otherwise it is one pretty-printed document such as `kubectl get
 * events -A -o json`, whose items are parsed one by one as they end (document-stream.ts). What counts as an event inside a value (List, EventList,
 * array, watch event) is the transform's `eventsInDocument`.
 *
 * Lines are cut from each chunk the input delivers, as bytes, and handed on as one batch per chunk:
 * a readline interface and an async generator step per line cost more than parsing the line did,
 * and decoding whole chunks to join and split them as strings cost 9 % of a replay.
 */
import { addAbortSignal, type Readable } from 'node:stream';
import { eventsInDocument } from '../transform/index.js';
import { DocumentStream, type DocumentPiece } from './document-stream.js';

export type ReplayItem =
  | { readonly kind: 'event'; readonly event: unknown; readonly line: number }
  /** Watch events with no occurrence: DELETED, BOOKMARK, ERROR. */
  | { readonly kind: 'skipped'; readonly count: number; readonly line: number }
  | { readonly kind: 'malformed'; readonly reason: string; readonly line: number };

function pushItems(into: ReplayItem[], value: unknown, line: number): void {
  const found = eventsInDocument(value);
  for (const event of found.events) into.push({ kind: 'event', event, line });
  if (found.skipped > 0) into.push({ kind: 'skipped', count: found.skipped, line });
}

const NEWLINE = 0x0a;

function pushPieces(into: ReplayItem[], pieces: readonly DocumentPiece[]): void {
  for (const piece of pieces) {
    if (piece.kind === 'malformed') into.push(piece);
    else if (piece.kind === 'item') into.push({ kind: 'event', event: piece.value, line: piece.line });
    else pushItems(into, piece.value, piece.line);
  }
}

/** Reads the lines of `input`; each yield is the items of one chunk (maybe none). */
export async function* readReplayBatches(input: Readable, signal?: AbortSignal): AsyncGenerator<ReplayItem[]> {
  // In an object: `takeLine` changes it, which narrowing of a plain `let` would not see.
  const state: { mode: 'undecided' | 'lines' | 'document'; document?: DocumentStream } = { mode: 'undecided' };
  let lineNo = 0;
  /** The unfinished line at the end of the last chunk. */
  let rest: Buffer | undefined;
  const takeLine = (into: ReplayItem[], text: string): void => {
    lineNo += 1;
    if (state.document !== undefined) return pushPieces(into, state.document.feed(Buffer.from(text + '\n')));
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      if (text.trim() === '') return;
      if (state.mode === 'undecided') {
        state.mode = 'document';
        state.document = new DocumentStream(lineNo);
        pushPieces(into, state.document.feed(Buffer.from(text + '\n')));
      } else into.push({ kind: 'malformed', reason: 'not valid JSON', line: lineNo });
      return;
    }
    state.mode = 'lines';
    pushItems(into, value, lineNo);
  };
  // `\r\n`, `\n` and a lone `\r` end a line, as for readline. Lines are cut at `\n` bytes (which
  // never occur inside a multi-byte UTF-8 character) and decoded one by one: bad bytes become
  // U+FFFD as with readline's decoder, and a BOM stays.
  const take = (into: ReplayItem[], bytes: Buffer, start: number, end: number): void => {
    let text = bytes.toString('utf8', start, end);
    if (text.endsWith('\r')) text = text.slice(0, -1);
    if (!text.includes('\r')) return takeLine(into, text);
    for (const part of text.split('\r')) takeLine(into, part);
  };
  const documentOf = (): DocumentStream | undefined => state.document;
  /** Cuts and takes the lines of a chunk; once the input is one document, the rest goes to it whole. */
  const takeChunk = (into: ReplayItem[], bytes: Buffer): void => {
    if (state.document !== undefined) return pushPieces(into, state.document.feed(bytes));
    let start = 0;
    let nl = bytes.indexOf(NEWLINE);
    if (rest !== undefined && nl >= 0) {
      // The line begun in an earlier chunk: only its own bytes are copied.
      const line = Buffer.concat([rest, bytes.subarray(0, nl)]);
      rest = undefined;
      take(into, line, 0, line.length);
      start = nl + 1;
      nl = bytes.indexOf(NEWLINE, start);
    }
    for (; nl >= 0 && state.document === undefined; nl = bytes.indexOf(NEWLINE, start)) {
      take(into, bytes, start, nl);
      start = nl + 1;
    }
    // Read through a call: the loop above may have switched to a document, which narrowing would not see.
    const document = documentOf();
    if (document !== undefined) {
      if (start < bytes.length) pushPieces(into, document.feed(bytes.subarray(start)));
      return;
    }
    if (start < bytes.length) rest = rest === undefined ? Buffer.from(bytes.subarray(start)) : Buffer.concat([rest, bytes.subarray(start)]);
  };
  // Aborting destroys the input, which ends the loop below even while the input is idle.
  if (signal) addAbortSignal(signal, input);
  try {
    for await (const chunk of input as AsyncIterable<Buffer | string>) {
      if (signal?.aborted) return;
      const items: ReplayItem[] = [];
      takeChunk(items, typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk);
      yield items;
    }
  } catch (err) {
    if (signal?.aborted) return;
    throw err;
  }
  if (signal?.aborted) return;
  const last: ReplayItem[] = [];
  if (rest !== undefined) take(last, rest, 0, rest.length);
  if (state.document !== undefined) pushPieces(last, state.document.end());
  yield last;
}

/** Stops reading (and ends the iteration) when `signal` aborts, even while the input is idle. */
export async function* readReplayInput(input: Readable, signal?: AbortSignal): AsyncGenerator<ReplayItem> {
  for await (const batch of readReplayBatches(input, signal)) yield* batch;
}
