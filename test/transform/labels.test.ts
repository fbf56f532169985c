import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createTransformer, DEFAULT_TRANSFORM_OPTIONS } from '../../src/transform/index.js';
import { findWatchedEvent } from '../support/corpus.js';

const transformer = createTransformer(DEFAULT_TRANSFORM_OPTIONS, { now: () => Date.parse('2026-11-27T00:00:00Z') });

function entryWith(change: (raw: Record<string, unknown>) => void): ReturnType<typeof transformer.toEntry> {
  const raw = structuredClone(findWatchedEvent('events/watch-core-v1.jsonl', 'web-5fc2ebc8c-36460.438ccadb9d5b3285')) as Record<string, unknown>;
  change(raw);
  const result = transformer.normalize(raw);
  assert.ok(result.ok);
  return transformer.toEntry(result.event);
}

describe('label values', () => {
  it('a reason over 1024 bytes is cut to 1024 bytes ending in …, never inside a code point', () => {
    const entry = entryWith((raw) => (raw.reason = `A${'🚀'.repeat(400)}`)); // 1601 bytes
    const value = entry.labels.reason ?? '';
    assert.ok(Buffer.byteLength(value) <= 1024);
    assert.ok(value.endsWith('…'));
    assert.equal(value, `A${'🚀'.repeat(255)}…`); // 1 + 255 × 4 + 3 = 1024 bytes
    assert.match(entry.line, new RegExp(`reason=A(🚀){255}… `));
  });

  it('an empty reason, type, kind or source gets the _none placeholder', () => {
    const entry = entryWith((raw) => {
      raw.reason = '';
      raw.type = null;
      (raw.involvedObject as Record<string, unknown>).kind = '';
      raw.source = {};
      raw.reportingComponent = '';
    });
    assert.deepEqual(entry.labels, { job: 'kube-event-shipper', kind: '_none', namespace: 'payments', reason: '_none', source: '_none', type: '_none' });
    assert.doesNotMatch(entry.line, /reason=|type=|source=|kind=/);
  });

  it('an involved object without a namespace gets _cluster', () => {
    const entry = entryWith((raw) => delete (raw.involvedObject as Record<string, unknown>).namespace);
    assert.equal(entry.labels.namespace, '_cluster');
    assert.doesNotMatch(entry.line, /namespace=/);
  });

  it('a label value may hold spaces, quotes and newlines: the sink escapes them', () => {
    const entry = entryWith((raw) => (raw.reason = 'Odd "reason"\nhere'));
    assert.equal(entry.labels.reason, 'Odd "reason"\nhere');
  });

  it('structured metadata values over 1024 bytes are cut the same way', () => {
    const entry = entryWith((raw) => ((raw.involvedObject as Record<string, unknown>).name = 'n'.repeat(3000)));
    assert.equal(entry.structuredMetadata.object_name, `${'n'.repeat(1021)}…`);
  });
});

describe('the level and occurrences structured metadata', () => {
  for (const [type, level] of [
    ['Normal', 'info'],
    ['Warning', 'warn'],
    ['Error', 'error'],
    ['CUSTOM', 'custom'],
    ['', 'unknown'],
    [null, 'unknown'],
  ] as const) {
    it(`type ${JSON.stringify(type)} gives level ${level}, in metadata only`, () => {
      const entry = entryWith((raw) => (raw.type = type));
      assert.equal(entry.structuredMetadata.level, level);
      assert.doesNotMatch(entry.line, /level=/);
    });
  }

  it('occurrences is what the caller says, as a decimal string, and never changes the line, labels or time', () => {
    const raw = structuredClone(findWatchedEvent('events/watch-core-v1.jsonl', 'web-5fc2ebc8c-36460.438ccadb9d5b3285')) as Record<string, unknown>;
    raw.count = 23;
    const result = transformer.normalize(raw);
    assert.ok(result.ok);
    const whole = transformer.toEntry(result.event);
    const rise = transformer.toEntry(result.event, 20);
    const none = transformer.toEntry(result.event, 0);
    assert.equal(whole.structuredMetadata.occurrences, '23', 'left out: the whole count, as for a first sight');
    assert.equal(rise.structuredMetadata.occurrences, '20');
    assert.equal(none.structuredMetadata.occurrences, '0');
    for (const e of [rise, none]) {
      assert.equal(e.line, whole.line);
      assert.deepEqual(e.labels, whole.labels);
      assert.equal(e.timestampNs, whole.timestampNs);
      assert.equal(e.occurrenceId, whole.occurrenceId);
    }
    assert.throws(() => transformer.toEntry(result.event, -1), RangeError);
    assert.throws(() => transformer.toEntry(result.event, 1.5), RangeError);
  });

  it('with --structured-metadata=false there is none at all', () => {
    const bare = createTransformer({ ...DEFAULT_TRANSFORM_OPTIONS, structuredMetadata: false }, { now: () => Date.parse('2026-11-27T00:00:00Z') });
    const result = bare.normalize(findWatchedEvent('events/watch-core-v1.jsonl', 'web-5fc2ebc8c-36460.438ccadb9d5b3285'));
    assert.ok(result.ok);
    assert.deepEqual(bare.toEntry(result.event, 1).structuredMetadata, {});
  });
});
