/**
 * Streams what `replay` is given and yields Event candidates. The format is told by the first
 * non-blank line: if it is a whole JSON value the input is JSON lines (Events or watch events, one
 * per line, read as they come); otherwise it is one pretty-printed document such as `kubectl get
 * events -A -o json`, parsed at the end. What counts as an event inside a value (List, EventList,
 * array, watch event) is the transform's `eventsInDocument`.
 *
 * Lines are cut from each chunk the input delivers and handed on as one batch per chunk: a
 * readline interface and an async generator step per line cost more than parsing the line did.
 */
import { StringDecoder } from 'node:string_decoder';
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

/** `\r\n`, `\n` and a lone `\r` end a line, as for readline. */
const LINE_BREAK = /\r\n|\r|\n/;

/**
 * Splits `text` into whole lines and the unfinished rest. A `\r` at the very end is kept in the
 * rest: its `\n` may come with the next chunk.
 */
function cutLines(text: string, final: boolean): { lines: string[]; rest: string } {
  const held = !final && text.endsWith('\r') ? 1 : 0;
  const body = held === 0 ? text : text.slice(0, -1);
  const lines = body.includes('\r') ? body.split(LINE_BREAK) : body.split('\n');
  let rest = lines.pop() ?? '';
  if (final) {
    if (rest !== '') lines.push(rest);
    rest = '';
  } else if (held === 1) rest += '\r';
  return { lines, rest };
}

/** Reads the lines of `input`; each yield is the items of one chunk (maybe none). */
export async function* readReplayBatches(input: Readable, signal?: AbortSignal): AsyncGenerator<ReplayItem[]> {
  // In an object: `take` changes it, which narrowing of a plain `let` would not see.
  const state: { mode: 'undecided' | 'lines' | 'document' } = { mode: 'undecided' };
  const document: string[] = [];
  let documentStart = 0;
  let lineNo = 0;
  let rest = '';
  // The decoder readline uses: a BOM stays, bad bytes become U+FFFD in the same way.
  const decoder = new StringDecoder('utf8');
  const take = (lines: readonly string[]): ReplayItem[] => {
    const items: ReplayItem[] = [];
    for (const line of lines) {
      lineNo += 1;
      if (state.mode === 'document') {
        document.push(line);
        continue;
      }
      if (line.trim() === '') continue;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        if (state.mode === 'undecided') {
          state.mode = 'document';
          documentStart = lineNo;
          document.push(line);
        } else items.push({ kind: 'malformed', reason: 'not valid JSON', line: lineNo });
        continue;
      }
      state.mode = 'lines';
      pushItems(items, value, lineNo);
    }
    return items;
  };
  // Aborting destroys the input, which ends the loop below even while the input is idle.
  if (signal) addAbortSignal(signal, input);
  try {
    for await (const chunk of input as AsyncIterable<Buffer | string>) {
      if (signal?.aborted) return;
      const cut = cutLines(rest + (typeof chunk === 'string' ? chunk : decoder.write(chunk)), false);
      rest = cut.rest;
      yield take(cut.lines);
    }
  } catch (err) {
    if (signal?.aborted) return;
    throw err;
  }
  if (signal?.aborted) return;
  yield take(cutLines(rest + decoder.end(), true).lines);
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
