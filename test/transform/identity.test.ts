import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createTransformer, DEFAULT_TRANSFORM_OPTIONS, type NormalizedEvent, type Transformer } from '../../src/transform/index.js';
import { corpusEvents, findWatchedEvent } from '../support/corpus.js';

const NOW = Date.parse('2026-11-26T21:00:00Z');
const DAY = 24 * 3600 * 1000;

function normalized(transformer: Transformer, raw: unknown): NormalizedEvent {
  const result = transformer.normalize(raw);
  assert.ok(result.ok);
  return result.event;
}

describe('occurrence identity', () => {
  for (const file of ['events/watch-core-v1.jsonl', 'events/watch-events.k8s.io-v1.jsonl', 'events/controllers/watch-core-v1.jsonl']) {
    it(`in ${file}, a MODIFIED gets a new id exactly when it raises the count or moves the time, and the same entry otherwise`, () => {
      const transformer = createTransformer(DEFAULT_TRANSFORM_OPTIONS, { now: () => NOW });
      const last = new Map<string, { count: number; at: bigint; entry: ReturnType<Transformer['toEntry']> }>();
      let sameOccurrence = 0;
      let newOccurrence = 0;
      for (const { where, watchType, object } of corpusEvents(file)) {
        const event = normalized(transformer, object);
        const entry = transformer.toEntry(event);
        const previous = last.get(event.uid);
        if (watchType === 'MODIFIED' && previous !== undefined) {
          const changed = previous.count !== event.count || previous.at !== event.occurredAtNs;
          if (changed) {
            newOccurrence++;
            assert.notEqual(entry.occurrenceId, previous.entry.occurrenceId, where);
          } else {
            sameOccurrence++;
            assert.deepEqual(entry, previous.entry, where);
          }
        }
        last.set(event.uid, { count: event.count, at: event.occurredAtNs, entry });
      }
      assert.ok(newOccurrence > 0, 'no count bump in the corpus');
      if (!file.includes('controllers')) assert.ok(sameOccurrence >= 1, 'the metadata-only change is missing');
    });
  }

  it('the same event listed and watched gives the same id', () => {
    const transformer = createTransformer(DEFAULT_TRANSFORM_OPTIONS, { now: () => NOW });
    const listed = corpusEvents('events/list-core-v1.json');
    const watched = new Map(corpusEvents('events/watch-core-v1.jsonl').map((e) => [JSON.stringify(normalized(transformer, e.object).uid), e.object]));
    let compared = 0;
    for (const { object } of listed) {
      const event = normalized(transformer, object);
      const lastWatched = watched.get(JSON.stringify(event.uid));
      assert.ok(lastWatched !== undefined);
      assert.deepEqual(transformer.toEntry(event), transformer.toEntry(normalized(transformer, lastWatched)));
      compared++;
    }
    assert.ok(compared > 90);
  });
});

describe('the accept window', () => {
  const raw = findWatchedEvent('events/watch-core-v1.jsonl', 'batch-96e05.c1f852126df223b8'); // 2026-11-26T10:23:24.074287Z

  it('an entry inside the window keeps its own time and has no original_ts', () => {
    const transformer = createTransformer(DEFAULT_TRANSFORM_OPTIONS, { now: () => NOW + 5 * DAY });
    const entry = transformer.toEntry(normalized(transformer, raw));
    assert.equal(entry.timestampNs, 1795688604074287000n);
    assert.doesNotMatch(entry.line, /original_ts/);
  });

  it('an entry older than the window moves to the window edge, rounded up to the hour, and keeps its time in the line', () => {
    const now = Date.parse('2026-12-03T15:20:00Z'); // edge: 2026-11-27T15:20Z, rounded up to 16:00
    const transformer = createTransformer(DEFAULT_TRANSFORM_OPTIONS, { now: () => now });
    const event = normalized(transformer, raw);
    const entry = transformer.toEntry(event);
    assert.equal(entry.timestampNs, BigInt(Date.parse('2026-11-27T16:00:00Z')) * 1_000_000n);
    assert.match(entry.line, / object_uid=a110305c-9142-4b02-a880-022a5fb8eb06 original_ts=2026-11-26T10:23:24.074287Z$/);
    assert.match(entry.line, / first_seen=2026-11-26T10:23:24.074287Z /);
    assert.equal(entry.occurrenceId, 'e2ac2e6c-a2ad-4e45-9ce0-af6009d3becf:1:1795688604074287000');
  });

  it('a clamped entry is identical when re-sent within the same hour, and moves with the next hour', () => {
    let now = Date.parse('2026-12-03T15:01:00Z');
    const transformer = createTransformer(DEFAULT_TRANSFORM_OPTIONS, { now: () => now });
    const event = normalized(transformer, raw);
    const first = transformer.toEntry(event);
    now = Date.parse('2026-12-03T15:59:59Z');
    assert.deepEqual(transformer.toEntry(event), first);
    now = Date.parse('2026-12-03T16:00:01Z');
    const later = transformer.toEntry(event);
    assert.equal(later.timestampNs - first.timestampNs, 3_600_000_000_000n);
    assert.equal(later.occurrenceId, first.occurrenceId);
    assert.equal(later.line, first.line);
  });

  it('the json line carries original_ts last', () => {
    const transformer = createTransformer({ ...DEFAULT_TRANSFORM_OPTIONS, lineFormat: 'json' }, { now: () => NOW + 30 * DAY });
    const entry = transformer.toEntry(normalized(transformer, raw));
    const keys = Object.keys(JSON.parse(entry.line) as object);
    assert.equal(keys[keys.length - 1], 'original_ts');
  });

  it('an entry more than 5 minutes ahead of the clock moves to now + 5 min, rounded down to the minute', () => {
    const now = Date.parse('2026-11-26T09:00:30Z'); // the event says 10:23:24.074287Z: a reporter clock far ahead
    const transformer = createTransformer(DEFAULT_TRANSFORM_OPTIONS, { now: () => now });
    const entry = transformer.toEntry(normalized(transformer, raw));
    assert.equal(entry.timestampNs, BigInt(Date.parse('2026-11-26T09:05:00Z')) * 1_000_000n);
    assert.match(entry.line, / original_ts=2026-11-26T10:23:24.074287Z$/);
    assert.equal(entry.occurrenceId, 'e2ac2e6c-a2ad-4e45-9ce0-af6009d3becf:1:1795688604074287000');
  });

  it('an entry less than 5 minutes ahead of the clock keeps its time', () => {
    const now = Date.parse('2026-11-26T10:19:00Z');
    const transformer = createTransformer(DEFAULT_TRANSFORM_OPTIONS, { now: () => now });
    const entry = transformer.toEntry(normalized(transformer, raw));
    assert.equal(entry.timestampNs, 1795688604074287000n);
    assert.doesNotMatch(entry.line, /original_ts/);
  });

  it('a shorter window clamps sooner', () => {
    const transformer = createTransformer({ ...DEFAULT_TRANSFORM_OPTIONS, acceptWindowMs: 3_600_000 }, { now: () => NOW });
    const entry = transformer.toEntry(normalized(transformer, raw));
    assert.equal(entry.timestampNs, BigInt(Date.parse('2026-11-26T20:00:00Z')) * 1_000_000n);
  });
});
