import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DocumentStream, type DocumentPiece } from '../../src/pipeline/document-stream.js';
import { readFixtureText } from '../support/fixtures.js';

/** Feeds `text` in chunks of `size` bytes; returns what came out after each chunk and at the end. */
function run(text: string, size: number, startLine = 1): { perChunk: DocumentPiece[][]; end: DocumentPiece[] } {
  const bytes = Buffer.from(text, 'utf8');
  const doc = new DocumentStream(startLine);
  const perChunk: DocumentPiece[][] = [];
  for (let i = 0; i < bytes.length; i += size) perChunk.push(doc.feed(bytes.subarray(i, i + size)));
  return { perChunk, end: doc.end() };
}

const values = (pieces: readonly DocumentPiece[]): unknown[] => pieces.flatMap((p) => (p.kind === 'malformed' ? [] : [p.value]));

// Strings full of what must not count: brackets, braces, commas, colons, escaped quotes, backslashes, a key named items.
const tricky = { metadata: { name: 'a"b]}', uid: 'u-1' }, message: 'x [ { "items": [1] } ] , : \\" \\\\', note: ['é€', { deep: [[]] }] };
const list = {
  apiVersion: 'v1',
  items: [tricky, { metadata: { uid: 'u-2' }, count: 2 }, { metadata: { uid: 'u-3' }, series: null, n: -1.5e3, ok: true }],
  kind: 'List',
  metadata: { resourceVersion: '' },
};

describe('streaming one JSON document', () => {
  it("hands out each of a List's items as it ends, whatever the chunk boundaries; the List's own fields after items do not matter", () => {
    for (const size of [1, 7, 4096]) {
      const { perChunk, end } = run(JSON.stringify(list, null, 2), size);
      const out = perChunk.flat();
      assert.deepEqual(out.map((p) => p.kind), ['item', 'item', 'item'], `chunks of ${size}`);
      assert.deepEqual(values(out), list.items);
      assert.deepEqual(end, []);
    }
  });

  it('items come out before the document ends (only one item is held)', () => {
    const text = JSON.stringify(list, null, 2);
    const cut = text.indexOf('"u-3"');
    const doc = new DocumentStream(1);
    const first = doc.feed(Buffer.from(text.slice(0, cut)));
    assert.deepEqual(values(first), list.items.slice(0, 2));
    assert.deepEqual(values(doc.feed(Buffer.from(text.slice(cut)))), list.items.slice(2));
  });

  it("kubectl's own output yields exactly what parsing it whole does, with each item's line", () => {
    const text = readFixtureText('events/kubectl-get-events.json');
    const whole = JSON.parse(text) as { items: unknown[] };
    const { perChunk, end } = run(text, 1000);
    const out = perChunk.flat();
    assert.deepEqual(values(out), whole.items);
    assert.deepEqual(end, []);
    const lines = text.split('\n');
    for (const p of out) assert.match(lines[p.line - 1] ?? '', /^\s*\{\s*$/, 'an item starts on its line');
  });

  it('a top-level array hands out its elements (each then read as a document of its own)', () => {
    const watch = [{ type: 'ADDED', object: { metadata: { uid: 'a' } } }, { type: 'DELETED', object: {} }, 'x'];
    const { perChunk, end } = run(JSON.stringify(watch), 3);
    assert.deepEqual(perChunk.flat().map((p) => p.kind), ['element', 'element', 'element']);
    assert.deepEqual(values(perChunk.flat()), watch);
    assert.deepEqual(end, []);
  });

  it('a document without an items array is parsed whole at the end', () => {
    for (const doc of [{ kind: 'Event', metadata: { uid: 'a' }, message: 'items: [' }, { kind: 'List', items: null }]) {
      const { perChunk, end } = run(JSON.stringify(doc, null, 1), 5, 4);
      assert.deepEqual(perChunk.flat(), []);
      assert.deepEqual(end, [{ kind: 'whole', value: doc, line: 4 }]);
    }
  });

  it('a broken item is one malformed piece at its line; the others still come; a cut-off List says so at the end', () => {
    const text = '{\n"items": [\n{"a": 1},\n{"b": tru},\n{"c": 3},\n{"d": ';
    const { perChunk, end } = run(text, 4);
    const out = perChunk.flat();
    assert.deepEqual(out.map((p) => [p.kind, p.line]), [['item', 3], ['malformed', 4], ['item', 5]]);
    assert.deepEqual(values(out), [{ a: 1 }, { c: 3 }]);
    assert.match((out[1] as { reason: string }).reason, /^not valid JSON/);
    assert.equal(end.length, 1);
    assert.equal(end[0]?.kind, 'malformed');
  });

  it('a document that is not JSON at all is one malformed piece, as parsing it whole says', () => {
    const { perChunk, end } = run('{\n  not json\n', 3);
    assert.deepEqual(perChunk.flat(), []);
    assert.equal(end.length, 1);
    assert.equal(end[0]?.kind, 'malformed');
    assert.match((end[0] as { reason: string }).reason, /^neither one JSON document nor JSON lines: /);
  });
});
