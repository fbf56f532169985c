/**
 * Streams what `replay` is given and yields Event candidates. The format is told by the first
 * non-blank line: if it is a whole JSON value the input is JSON lines (Events or watch events, one
 * per line, read as they come); otherwise it is one pretty-printed document such as `kubectl get
 * events -A -o json`, parsed at the end. What counts as an event inside a value (List, EventList,
 * array, watch event) is the transform's `eventsInDocument`.
 */
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { eventsInDocument } from '../transform/index.js';

export type ReplayItem =
  | { readonly kind: 'event'; readonly event: unknown; readonly line: number }
  /** Watch events with no occurrence: DELETED, BOOKMARK, ERROR. */
  | { readonly kind: 'skipped'; readonly count: number; readonly line: number }
  | { readonly kind: 'malformed'; readonly reason: string; readonly line: number };

function* itemsOf(value: unknown, line: number): Generator<ReplayItem> {
  const found = eventsInDocument(value);
  for (const event of found.events) yield { kind: 'event', event, line };
  if (found.skipped > 0) yield { kind: 'skipped', count: found.skipped, line };
}

function tryParse(text: string): { ok: true; value: unknown } | { ok: false; why: string } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (err) {
    return { ok: false, why: err instanceof Error ? err.message : String(err) };
  }
}

/** Stops reading (and ends the iteration) when `signal` aborts, even while the input is idle. */
export async function* readReplayInput(input: Readable, signal?: AbortSignal): AsyncGenerator<ReplayItem> {
  const lines = createInterface({ input, crlfDelay: Infinity, ...(signal ? { signal } : {}) });
  let mode: 'undecided' | 'lines' | 'document' = 'undecided';
  const document: string[] = [];
  let documentStart = 0;
  let lineNo = 0;
  for await (const line of lines) {
    if (signal?.aborted) return;
    lineNo += 1;
    if (mode === 'document') {
      document.push(line);
      continue;
    }
    if (line.trim() === '') continue;
    const parsed = tryParse(line);
    if (mode === 'undecided') {
      if (!parsed.ok) {
        mode = 'document';
        documentStart = lineNo;
        document.push(line);
        continue;
      }
      mode = 'lines';
    }
    if (parsed.ok) yield* itemsOf(parsed.value, lineNo);
    else yield { kind: 'malformed', reason: 'not valid JSON', line: lineNo };
  }
  if (mode === 'document' && !signal?.aborted) {
    const parsed = tryParse(document.join('\n'));
    if (parsed.ok) yield* itemsOf(parsed.value, documentStart);
    else yield { kind: 'malformed', reason: `neither one JSON document nor JSON lines: ${parsed.why}`, line: documentStart };
  }
}
