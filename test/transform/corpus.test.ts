import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createTransformer, DEFAULT_TRANSFORM_OPTIONS, type Transformer } from '../../src/transform/index.js';
import { readFixtureJson } from '../support/fixtures.js';
import { corpusEvents, eventFixtureFiles } from '../support/corpus.js';

const NOW = Date.parse('2026-11-27T00:00:00Z');
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function transformers(): Transformer[] {
  return [
    createTransformer(DEFAULT_TRANSFORM_OPTIONS, { now: () => NOW }),
    createTransformer({ ...DEFAULT_TRANSFORM_OPTIONS, lineFormat: 'json' }, { now: () => NOW }),
  ];
}

describe('every fixture event transforms', () => {
  const files = eventFixtureFiles();

  it('the corpus has every kind of file the fixtures describe', () => {
    assert.ok(files.length === 13, `only ${files.length} files`);
    for (const f of ['events/watch-core-v1.jsonl', 'events/kubectl-get-events.k8s.io.json', 'events/controllers/list-events.k8s.io-v1.json', 'events/list-core-v1-pages.json']) {
      assert.ok(files.includes(f), f);
    }
  });

  for (const file of files.filter((f) => !f.endsWith('gone-410.json'))) {
    it(`every event of ${file} becomes a valid entry in both line formats`, () => {
      const events = corpusEvents(file);
      assert.ok(events.length > 0, 'no events found');
      for (const transformer of transformers()) {
        for (const { where, object } of events) {
          const result = transformer.normalize(object);
          assert.ok(result.ok, `${where}: ${result.ok ? '' : `${result.reason} ${result.detail}`}`);
          const entry = transformer.toEntry(result.event);
          for (const [name, value] of Object.entries(entry.labels)) {
            assert.match(name, LABEL_NAME, where);
            assert.ok(value !== '' && Buffer.byteLength(value) <= 1024, `${where}: label ${name}`);
          }
          assert.ok(entry.line.length > 0 && Buffer.byteLength(entry.line) <= 256 * 1024, where);
          assert.equal(entry.timestampNs, result.event.occurredAtNs, `${where}: clamped`);
          assert.ok(entry.occurrenceId.startsWith(result.event.uid), where);
        }
      }
    });
  }

  it('the status objects in gone-410.json are rejected as not an event', () => {
    const answers = readFixtureJson('events/gone-410.json') as Record<string, { body: string }>;
    const [transformer] = transformers();
    assert.ok(transformer);
    for (const [name, { body }] of Object.entries(answers)) {
      const parsed = JSON.parse(body) as { object?: unknown };
      const status = parsed.object ?? parsed;
      const result = transformer.normalize(status);
      assert.equal(result.ok, false, name);
      assert.equal(result.ok ? '' : result.reason, 'not_an_event', name);
    }
  });

  for (const dir of ['events', 'events/controllers']) {
    it(`in ${dir}, the core/v1 and events.k8s.io/v1 views of each moment give byte-identical entries`, () => {
      const core = corpusEvents(`${dir}/watch-core-v1.jsonl`);
      const events = corpusEvents(`${dir}/watch-events.k8s.io-v1.jsonl`);
      assert.equal(core.length, events.length);
      for (const transformer of transformers()) {
        core.forEach((c, i) => {
          const a = transformer.normalize(c.object);
          const b = transformer.normalize(events[i]?.object);
          assert.ok(a.ok && b.ok, c.where);
          assert.equal(a.event.api, 'core/v1');
          assert.equal(b.event.api, 'events.k8s.io/v1');
          assert.deepEqual(transformer.toEntry(b.event), transformer.toEntry(a.event), c.where);
        });
      }
    });
  }
});
