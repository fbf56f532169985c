/** Every Event object in the shared fixture corpora, with where it came from. */
import { readdirSync } from 'node:fs';
import { fixturePath, readFixtureJson, readFixtureJsonLines } from './fixtures.js';

export interface CorpusEvent {
  /** e.g. `events/controllers/watch-core-v1.jsonl#12 MODIFIED` */
  readonly where: string;
  readonly file: string;
  readonly watchType: string | undefined;
  readonly object: unknown;
}

/** The event files: watch streams, lists, paged lists and kubectl outputs of both directories. */
export function eventFixtureFiles(): string[] {
  const files: string[] = [];
  for (const dir of ['events', 'events/controllers']) {
    for (const name of readdirSync(fixturePath(dir)).sort()) {
      if (name.endsWith('.json') || name.endsWith('.jsonl')) files.push(`${dir}/${name}`);
    }
  }
  return files;
}

export function corpusEvents(file: string): CorpusEvent[] {
  const out: CorpusEvent[] = [];
  if (file.endsWith('.jsonl')) {
    readFixtureJsonLines(file).forEach((line, i) => {
      const { type, object } = line as { type: string; object: unknown };
      out.push({ where: `${file}#${i + 1} ${type}`, file, watchType: type, object });
    });
    return out;
  }
  const collect = (doc: unknown, where: string): void => {
    if (Array.isArray(doc)) {
      doc.forEach((page, i) => collect(page, `${where}[${i}]`));
    } else if (typeof doc === 'object' && doc !== null && Array.isArray((doc as { items?: unknown }).items)) {
      (doc as { items: unknown[] }).items.forEach((item, i) => out.push({ where: `${where} items[${i}]`, file, watchType: undefined, object: item }));
    }
  };
  collect(readFixtureJson(file), file);
  return out;
}

/** All events of all event files. */
export function allCorpusEvents(): CorpusEvent[] {
  return eventFixtureFiles().flatMap(corpusEvents);
}

/** The core/v1 watch line of the event with this name, first one of the given watch type. */
export function findWatchedEvent(file: string, name: string, watchType = 'ADDED', nth = 0): unknown {
  const matches = corpusEvents(file).filter(
    (e) => e.watchType === watchType && (e.object as { metadata?: { name?: string } }).metadata?.name === name,
  );
  const found = matches[nth];
  if (found === undefined) throw new Error(`no ${watchType} #${nth} of ${name} in ${file}`);
  return found.object;
}
