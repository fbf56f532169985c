/**
 * Streams what `replay` is given and yields Event candidates. The format is told by the first
 * non-blank line: if it is a whole JSON value the input is JSON lines (Events or watch events, one
 * per line, read as they come); otherwise it is one pretty-printed document such as `kubectl get
 * events -A -o json`, parsed at the end. What counts as an event inside a value (List, EventList,
 * array, watch event) is the transform's `eventsInDocument`.
 *
 * Lines are cut from each chunk the input delivers, as bytes, and handed on as one batch per chunk:
 * a readline interface and an async generator step per line cost more than parsing the line did,
 * and decoding whole chunks to join and split them as strings cost 9 % of a replay.
 */
import { addAbortSignal, type Readable } from 'node:stream';
import { eventsInDocument } from '../transform/index.js';

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

/** Reads the lines of `input`; each yield is the items of one chunk (maybe none). */
export async function* readReplayBatches(input: Readable, signal?: AbortSignal): AsyncGenerator<ReplayItem[]> {
  // In an object: `takeLine` changes it, which narrowing of a plain `let` would not see.
  const state: { mode: 'undecided' | 'lines' | 'document' } = { mode: 'undecided' };
  const document: string[] = [];
  let documentStart = 0;
  let lineNo = 0;
  /** The unfinished line at the end of the last chunk. */
  let rest: Buffer | undefined;
  const takeLine = (into: ReplayItem[], text: string): void => {
    lineNo += 1;
    if (state.mode === 'document') {
      document.push(text);
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      if (text.trim() === '') return;
      if (state.mode === 'undecided') {
        state.mode = 'document';
        documentStart = lineNo;
        document.push(text);
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
  // Aborting destroys the input, which ends the loop below even while the input is idle.
  if (signal) addAbortSignal(signal, input);
  try {
    for await (const chunk of input as AsyncIterable<Buffer | string>) {
      if (signal?.aborted) return;
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
      const items: ReplayItem[] = [];
      let start = 0;
      let nl = bytes.indexOf(NEWLINE);
      if (rest !== undefined && nl >= 0) {
        // The line begun in an earlier chunk: only its own bytes are copied.
        const line = Buffer.concat([rest, bytes.subarray(0, nl)]);
        rest = undefined;
        take(items, line, 0, line.length);
        start = nl + 1;
        nl = bytes.indexOf(NEWLINE, start);
      }
      for (; nl >= 0; nl = bytes.indexOf(NEWLINE, start)) {
        take(items, bytes, start, nl);
        start = nl + 1;
      }
      if (start < bytes.length) rest = rest === undefined ? Buffer.from(bytes.subarray(start)) : Buffer.concat([rest, bytes.subarray(start)]);
      yield items;
    }
  } catch (err) {
    if (signal?.aborted) return;
    throw err;
  }
  if (signal?.aborted) return;
  const last: ReplayItem[] = [];
  if (rest !== undefined) take(last, rest, 0, rest.length);
  yield last;
  if (state.mode === 'document') {
    const items: ReplayItem[] = [];
    let value: unknown;
    try {
      value = JSON.parse(document.join('\n'));
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      items.push({ kind: 'malformed', reason: `neither one JSON document nor JSON lines: ${why}`, line: documentStart });
      yield items;
      return;
    }
    pushItems(items, value, documentStart);
    yield items;
  }
}

/** Stops reading (and ends the iteration) when `signal` aborts, even while the input is idle. */
export async function* readReplayInput(input: Readable, signal?: AbortSignal): AsyncGenerator<ReplayItem> {
  for await (const batch of readReplayBatches(input, signal)) yield* batch;
}
