import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventsInDocument, eventsInText } from '../../src/transform/index.js';
import { readFixtureText } from '../support/fixtures.js';

const names = (events: unknown[]): string[] => events.map((e) => (e as { metadata: { name: string } }).metadata.name);

describe('event objects inside replay input', () => {
  it('kubectl get events -o json gives its items', () => {
    const found = eventsInText(readFixtureText('events/kubectl-get-events.json'));
    const parsed = JSON.parse(readFixtureText('events/kubectl-get-events.json')) as { items: unknown[] };
    assert.equal(found.events.length, parsed.items.length);
    assert.deepEqual(found.events, parsed.items);
    assert.equal(found.skipped, 0);
  });

  it('an EventList from the API gives its items', () => {
    const found = eventsInText(readFixtureText('events/list-events.k8s.io-v1.json'));
    assert.ok(found.events.length > 90);
  });

  it('an array of list pages gives the items of every page', () => {
    const pages = JSON.parse(readFixtureText('events/list-core-v1-pages.json')) as { items: unknown[] }[];
    const found = eventsInText(readFixtureText('events/list-core-v1-pages.json'));
    assert.equal(found.events.length, pages.reduce((n, p) => n + p.items.length, 0));
  });

  it('a watch stream as JSON lines gives ADDED and MODIFIED objects and skips DELETED', () => {
    const text = readFixtureText('events/watch-core-v1.jsonl');
    const lines = text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as { type: string; object: unknown });
    const found = eventsInText(text);
    assert.deepEqual(found.events, lines.filter((l) => l.type !== 'DELETED').map((l) => l.object));
    assert.equal(found.skipped, lines.filter((l) => l.type === 'DELETED').length);
    assert.ok(found.skipped >= 1);
    assert.equal(found.unparseable, 0);
  });

  it('a broken line in JSON lines is counted and the rest is read', () => {
    const found = eventsInText('{"type":"ADDED","object":{"metadata":{"name":"a"}}}\n{not json\n\n{"metadata":{"name":"b"}}\n');
    assert.deepEqual(names(found.events), ['a', 'b']);
    assert.equal(found.unparseable, 1);
  });

  it('an in-stream ERROR or a BOOKMARK is skipped', () => {
    const found = eventsInDocument([{ type: 'ERROR', object: { kind: 'Status', code: 410 } }, { type: 'BOOKMARK', object: { metadata: { resourceVersion: '9' } } }]);
    assert.deepEqual(found.events, []);
    assert.equal(found.skipped, 2);
  });

  it('a single Event is itself', () => {
    const event = { kind: 'Event', type: 'Normal', metadata: { name: 'x' } };
    assert.deepEqual(eventsInDocument(event).events, [event]);
  });
});
