/**
 * Event objects inside what a user may hand to `replay`: one Event, a List or EventList
 * (`kubectl get events -o json`, an API list), an array of those (paged lists), or a watch
 * stream as JSON lines (`{"type":"ADDED","object":{...}}`). Watch DELETED, BOOKMARK and ERROR
 * lines carry no occurrence and are skipped; what is inside is not validated here (`normalize` does).
 */

export interface DocumentEvents {
  /** Candidate Event objects, in document order. */
  readonly events: unknown[];
  /** Watch events that carry no occurrence (DELETED, BOOKMARK, ERROR). */
  readonly skipped: number;
  /** Lines of a JSON-lines text that are not JSON. */
  readonly unparseable: number;
}

const OCCURRENCE_WATCH_TYPES = new Set(['ADDED', 'MODIFIED']);

/** Parses `text` as one JSON document, or else as JSON lines. */
export function eventsInText(text: string): DocumentEvents {
  const whole = tryParse(text);
  if (whole.ok) return eventsInDocument(whole.value);
  const events: unknown[] = [];
  let skipped = 0;
  let unparseable = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const parsed = tryParse(line);
    if (!parsed.ok) {
      unparseable++;
      continue;
    }
    const found = eventsInDocument(parsed.value);
    events.push(...found.events);
    skipped += found.skipped;
  }
  return { events, skipped, unparseable };
}

export function eventsInDocument(doc: unknown): DocumentEvents {
  const events: unknown[] = [];
  let skipped = 0;
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) {
      for (const item of value) visit(item);
      return;
    }
    if (typeof value === 'object' && value !== null) {
      const record = value as Record<string, unknown>;
      if (Array.isArray(record.items)) {
        for (const item of record.items) events.push(item);
        return;
      }
      if (typeof record.type === 'string' && 'object' in record && !('metadata' in record)) {
        if (OCCURRENCE_WATCH_TYPES.has(record.type)) events.push(record.object);
        else skipped++;
        return;
      }
    }
    // Anything else is handed on as one event; normalize says whether it is one.
    events.push(value);
  };
  visit(doc);
  return { events, skipped, unparseable: 0 };
}

function tryParse(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}
