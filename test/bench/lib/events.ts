/**
 * Realistic Events for the benchmarks: every ADDED/MODIFIED object of the recorded core/v1 watch
 * streams in ../shared/fixtures/events (hand-made corpus and real controllers, ~1.1 KB each with
 * managedFields) used as templates; each generated event gets a unique name, uid and
 * resourceVersion and recent times, so every one is a new occurrence that no window clamps.
 */
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

type Json = Record<string, unknown>;

export const fixturesDir = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', 'shared', 'fixtures', 'events');
const WATCH_FILES = ['watch-core-v1.jsonl', 'controllers/watch-core-v1.jsonl'];

function loadTemplates(): Json[] {
  const out: Json[] = [];
  for (const file of WATCH_FILES) {
    for (const line of readFileSync(resolve(fixturesDir, file), 'utf8').split('\n')) {
      if (line.trim() === '') continue;
      const ev = JSON.parse(line) as { type?: string; object?: Json };
      if ((ev.type === 'ADDED' || ev.type === 'MODIFIED') && ev.object) out.push(ev.object);
    }
  }
  if (out.length === 0) throw new Error(`no event templates found in ${fixturesDir}`);
  return out;
}

const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0');
const iso = (ms: number, micros: boolean): string => {
  const s = new Date(ms).toISOString();
  return micros ? s.replace(/\.(\d{3})Z$/, '.$1000Z') : s.replace(/\.\d{3}Z$/, 'Z');
};

export class EventFactory {
  private readonly templates = loadTemplates();

  /** The Event object `i` (a core/v1 Event as the API server sends it) at resourceVersion `rv`, occurring at `atMs`. */
  object(i: number, rv: number, atMs: number): Json {
    const t = this.templates[i % this.templates.length]!;
    const meta = t['metadata'] as Json;
    const involved = (t['involvedObject'] ?? {}) as Json;
    const name = `${typeof involved['name'] === 'string' ? involved['name'] : 'obj'}.${hex(i, 16)}`;
    const o: Json = {
      ...t,
      metadata: { ...meta, name, uid: `b0000000-${hex(Math.floor(i / 0x10000), 4)}-4000-8000-${hex(i, 12)}`, resourceVersion: String(rv), creationTimestamp: iso(atMs, false) },
      involvedObject: { ...involved, uid: `a0000000-0000-4000-8000-${hex(i % 5000, 12)}` },
    };
    if (t['firstTimestamp'] != null) o['firstTimestamp'] = iso(atMs - 1000 * ((i % 7) + 1), false);
    if (t['lastTimestamp'] != null) o['lastTimestamp'] = iso(atMs, false);
    if (t['eventTime'] != null) o['eventTime'] = iso(atMs, true);
    const series = t['series'] as Json | null | undefined;
    if (series) o['series'] = { ...series, lastObservedTime: iso(atMs, true) };
    return o;
  }

  /** One watch line (`{"type":"ADDED","object":…}\n`). */
  watchLine(i: number, rv: number, atMs: number): string {
    return `{"type":"ADDED","object":${JSON.stringify(this.object(i, rv, atMs))}}\n`;
  }
}

/** rv of generated event i: the stores below number events from this base. */
export const BASE_RV = 1000;

/**
 * Writes `count` watch lines (event i at resourceVersion BASE_RV + 1 + i, times spread evenly over
 * the `spanMs` before now) to `path`; returns the file's size.
 */
export function writeEventFile(path: string, count: number, spanMs = 30 * 60_000): number {
  const factory = new EventFactory();
  const start = Date.now() - spanMs;
  const fd = openSync(path, 'w');
  let bytes = 0;
  try {
    let chunk = '';
    for (let i = 0; i < count; i++) {
      chunk += factory.watchLine(i, BASE_RV + 1 + i, start + Math.floor((i * spanMs) / count));
      if (chunk.length > 1 << 20 || i === count - 1) {
        bytes += writeSync(fd, chunk);
        chunk = '';
      }
    }
  } finally {
    closeSync(fd);
  }
  return bytes;
}
