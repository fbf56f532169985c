import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { readReplayInput, type ReplayItem } from '../../src/pipeline/replay-input.js';
import { readFixtureJson, readFixtureText } from '../support/fixtures.js';

async function collect(text: string, chunkSize = 997): Promise<ReplayItem[]> {
  const chunks: string[] = [];
  for (let i = 0; i < text.length; i += chunkSize) chunks.push(text.slice(i, i + chunkSize));
  const items: ReplayItem[] = [];
  for await (const item of readReplayInput(Readable.from(chunks))) items.push(item);
  return items;
}

const events = (items: ReplayItem[]): unknown[] => items.flatMap((i) => (i.kind === 'event' ? [i.event] : []));
const skipped = (items: ReplayItem[]): number => items.reduce((n, i) => n + (i.kind === 'skipped' ? i.count : 0), 0);

describe('replay input', () => {
  it("kubectl's pretty-printed List yields every item", async () => {
    const list = readFixtureJson('events/kubectl-get-events.json') as { items: unknown[] };
    const items = await collect(readFixtureText('events/kubectl-get-events.json'));
    assert.deepEqual(events(items), list.items);
    assert.equal(items.filter((i) => i.kind === 'malformed').length, 0);
  });

  it('watch-event JSON lines yield ADDED and MODIFIED objects and count the rest as skipped', async () => {
    const text = readFixtureText('events/watch-core-v1.jsonl');
    const lines = text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as { type: string; object: unknown });
    const items = await collect(text);
    assert.deepEqual(events(items), lines.filter((l) => l.type === 'ADDED' || l.type === 'MODIFIED').map((l) => l.object));
    assert.equal(skipped(items), lines.filter((l) => l.type !== 'ADDED' && l.type !== 'MODIFIED').length);
    assert.ok(skipped(items) > 0, 'the corpus holds a DELETED event');
  });

  it('JSON lines of bare Events yield each Event', async () => {
    const list = readFixtureJson('events/list-events.k8s.io-v1.json') as { items: unknown[] };
    const text = list.items.map((e) => JSON.stringify(e)).join('\n') + '\n';
    assert.deepEqual(events(await collect(text)), list.items);
  });

  it('a bad line in JSON lines is reported with its line number and the rest still flows', async () => {
    const text = '{"type":"ADDED","object":{"kind":"Event","metadata":{"uid":"a"}}}\nnot json\n\n{"type":"ADDED","object":{"kind":"Event","metadata":{"uid":"b"}}}\n';
    const items = await collect(text, 5);
    assert.deepEqual(
      items.map((i) => i.kind),
      ['event', 'malformed', 'event'],
    );
    assert.deepEqual(items[1], { kind: 'malformed', reason: 'not valid JSON', line: 2 });
  });

  it('a broken document is one malformed item, not a crash', async () => {
    const items = await collect('{\n  "kind": "List",\n  "items": [\n');
    assert.equal(items.length, 1);
    assert.equal(items[0]?.kind, 'malformed');
  });

  it('empty input yields nothing', async () => {
    assert.deepEqual(await collect(''), []);
    assert.deepEqual(await collect('\n\n'), []);
  });

  it('ends lines at \\r\\n, \\n and a lone \\r, whatever bytes a chunk ends on (inside a character, between \\r and \\n)', async () => {
    const bytes = Buffer.from('{"a":"é€"}\r\n{"b":1}\r{"c":2}\n\r\n{"d":"ü"}\r\nnot json\r', 'utf8');
    // One byte per chunk: every boundary falls somewhere awkward.
    const chunks = [...bytes].map((b) => Buffer.from([b]));
    const items: ReplayItem[] = [];
    for await (const item of readReplayInput(Readable.from(chunks))) items.push(item);
    assert.deepEqual(
      items.map((i) => (i.kind === 'event' ? [i.line, i.event] : [i.line, i.kind])),
      [
        [1, { a: 'é€' }],
        [2, { b: 1 }],
        [3, { c: 2 }],
        [5, { d: 'ü' }],
        [6, 'malformed'],
      ],
    );
  });
});
