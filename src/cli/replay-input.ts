/**
 * Reads what `replay` is given and yields Event objects, auto-detecting the format:
 * - JSON lines, one object per line: watch events (`{"type":"ADDED","object":{…}}`) or Events;
 * - one JSON document: `kubectl get events -A -o json` (a List), an EventList, an array, or one Event.
 * Watch events other than ADDED and MODIFIED are skipped (a DELETED event is no new occurrence).
 */
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';

export type ReplayItem =
  | { readonly kind: 'event'; readonly event: unknown; readonly line: number }
  | { readonly kind: 'skipped'; readonly why: 'deleted' | 'bookmark' | 'error'; readonly line: number }
  | { readonly kind: 'malformed'; readonly reason: string; readonly line: number };

const WATCH_TYPES = new Set(['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK', 'ERROR']);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** One parsed JSON value → the items it holds. */
function* itemsOf(value: unknown, line: number): Generator<ReplayItem> {
  if (Array.isArray(value)) {
    for (const item of value) yield* itemsOf(item, line);
    return;
  }
  if (!isObject(value)) {
    yield { kind: 'malformed', reason: 'not a JSON object', line };
    return;
  }
  const type = value['type'];
  if (typeof type === 'string' && WATCH_TYPES.has(type) && isObject(value['object'])) {
    if (type === 'ADDED' || type === 'MODIFIED') yield { kind: 'event', event: value['object'], line };
    else yield { kind: 'skipped', why: type === 'DELETED' ? 'deleted' : type === 'BOOKMARK' ? 'bookmark' : 'error', line };
    return;
  }
  if (Array.isArray(value['items'])) {
    for (const item of value['items']) yield* itemsOf(item, line);
    return;
  }
  yield { kind: 'event', event: value, line };
}

export async function* readReplayInput(input: Readable): AsyncGenerator<ReplayItem> {
  const lines = createInterface({ input, crlfDelay: Infinity });
  let mode: 'undecided' | 'lines' | 'document' = 'undecided';
  let document: string[] = [];
  let documentStart = 0;
  let lineNo = 0;
  for await (const line of lines) {
    lineNo += 1;
    if (mode === 'document') {
      document.push(line);
      continue;
    }
    if (line.trim() === '') continue;
    let parsed: unknown;
    let parsedOk = true;
    try {
      parsed = JSON.parse(line);
    } catch {
      parsedOk = false;
    }
    if (mode === 'undecided') {
      if (parsedOk) {
        mode = 'lines';
      } else {
        // Not a whole value on its first line: a pretty-printed document such as kubectl's output.
        mode = 'document';
        documentStart = lineNo;
        document = [line];
        continue;
      }
    }
    if (!parsedOk) yield { kind: 'malformed', reason: 'not valid JSON', line: lineNo };
    else yield* itemsOf(parsed, lineNo);
  }
  if (mode === 'document') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(document.join('\n'));
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      yield { kind: 'malformed', reason: `not valid JSON or JSON lines: ${why}`, line: documentStart };
      return;
    }
    yield* itemsOf(parsed, documentStart);
  }
}
