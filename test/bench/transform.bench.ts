/**
 * Transform throughput: every event of the fixture corpora (both API shapes, lists, watches,
 * kubectl outputs), repeated to a few hundred thousand, through normalize + toEntry, per line format.
 */
import { performance } from 'node:perf_hooks';
import { createTransformer, DEFAULT_TRANSFORM_OPTIONS, type LineFormat } from '../../src/transform/index.js';
import { allCorpusEvents } from '../transform/support/corpus.js';

const TARGET_EVENTS = 300_000;
const TRIALS = 3;

function run(format: LineFormat, events: readonly unknown[], rounds: number): { perSecond: number; lineBytes: number } {
  const transformer = createTransformer({ ...DEFAULT_TRANSFORM_OPTIONS, lineFormat: format }, { now: () => Date.parse('2026-11-27T00:00:00Z') });
  let lineBytes = 0;
  const start = performance.now();
  for (let r = 0; r < rounds; r++) {
    for (const raw of events) {
      const result = transformer.normalize(raw);
      if (!result.ok) throw new Error(`fixture event rejected: ${result.reason}`);
      lineBytes += transformer.toEntry(result.event).line.length;
    }
  }
  const seconds = (performance.now() - start) / 1000;
  return { perSecond: (rounds * events.length) / seconds, lineBytes: lineBytes / (rounds * events.length) };
}

export default function bench(): void {
  const events = allCorpusEvents().map((e) => e.object);
  const rounds = Math.ceil(TARGET_EVENTS / events.length);
  run('logfmt', events, 2); // warm-up
  run('json', events, 2);
  // Interleaved trials, best of each: other processes on the machine only ever slow a trial down.
  const trials = { logfmt: [] as ReturnType<typeof run>[], json: [] as ReturnType<typeof run>[] };
  for (let t = 0; t < TRIALS; t++) {
    trials.logfmt.push(run('logfmt', events, rounds));
    trials.json.push(run('json', events, rounds));
  }
  const best = (list: ReturnType<typeof run>[]): ReturnType<typeof run> => list.reduce((a, b) => (b.perSecond > a.perSecond ? b : a));
  const logfmt = best(trials.logfmt);
  const json = best(trials.json);
  const total = rounds * events.length;
  const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
  process.stdout.write(`corpus: ${events.length} fixture events × ${rounds} rounds = ${fmt(total)} events per format and trial, best of ${TRIALS} trials\n`);
  process.stdout.write(`logfmt: ${fmt(logfmt.perSecond)} events/s (mean line ${fmt(logfmt.lineBytes)} chars)\n`);
  process.stdout.write(`json:   ${fmt(json.perSecond)} events/s (mean line ${fmt(json.lineBytes)} chars)\n`);
  process.stdout.write(`ratio logfmt/json: ${(logfmt.perSecond / json.perSecond).toFixed(2)}\n`);
}
