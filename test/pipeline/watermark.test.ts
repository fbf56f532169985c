import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Watermark, type Position } from '../../src/pipeline/watermark.js';

describe('the low-watermark', () => {
  it('starts at the checkpointed position', () => {
    assert.deepEqual(new Watermark({ resourceVersion: '7', atMs: 1 }).position, { resourceVersion: '7', atMs: 1 });
    assert.equal(new Watermark(undefined).position, undefined);
  });

  it('advances only past items that all have an outcome, whatever order the outcomes come in', () => {
    const wm = new Watermark(undefined);
    const a = wm.begin('10', 1);
    const b = wm.begin('11', 2);
    const c = wm.begin('12', 3);
    wm.complete(c);
    assert.equal(wm.position, undefined, 'c is done but a and b are not');
    wm.complete(a);
    assert.deepEqual(wm.position, { resourceVersion: '10', atMs: 1 });
    wm.complete(b);
    assert.deepEqual(wm.position, { resourceVersion: '12', atMs: 3 });
    assert.equal(wm.pending, 0);
  });

  it('takes a list position only once every listed item before it is done', () => {
    const wm = new Watermark({ resourceVersion: '5', atMs: 0 });
    const l1 = wm.begin(undefined, 1);
    const l2 = wm.begin(undefined, 1);
    wm.mark('20', 2);
    wm.complete(l2);
    assert.deepEqual(wm.position, { resourceVersion: '5', atMs: 0 });
    wm.complete(l1);
    assert.deepEqual(wm.position, { resourceVersion: '20', atMs: 2 });
  });

  it('never passes an item that got no final outcome (dropped at shutdown)', () => {
    const wm = new Watermark(undefined);
    const a = wm.begin('1', 1);
    wm.begin('2', 2); // never completed
    const c = wm.begin('3', 3);
    wm.complete(a);
    wm.complete(c);
    assert.deepEqual(wm.position, { resourceVersion: '1', atMs: 1 });
  });

  it('stays correct across many items (its slots are trimmed as it goes)', () => {
    const wm = new Watermark(undefined);
    const seqs: number[] = [];
    for (let i = 1; i <= 5000; i++) seqs.push(wm.begin(String(i), i));
    for (let i = seqs.length - 1; i >= 0; i -= 2) wm.complete(seqs[i]!);
    assert.equal(wm.position, undefined);
    for (let i = 0; i < seqs.length; i += 2) wm.complete(seqs[i]!);
    assert.deepEqual(wm.position, { resourceVersion: '5000', atMs: 5000 });
    const next = wm.begin('5001', 5001);
    wm.complete(next);
    assert.deepEqual(wm.position, { resourceVersion: '5001', atMs: 5001 });
  });

  it('keeps its order over many items as passed ones are dropped (a long list, then a watch)', () => {
    const wm = new Watermark(undefined);
    const listed = Array.from({ length: 10_000 }, () => wm.begin(undefined, 1));
    wm.mark('100', 2);
    // Outcomes in reverse order: nothing passes until the first listed item is done.
    for (const seq of listed.slice(1).reverse()) wm.complete(seq);
    assert.equal(wm.position, undefined);
    assert.equal(wm.pending, 10_001);
    wm.complete(listed[0] as number);
    assert.deepEqual(wm.position, { resourceVersion: '100', atMs: 2 });
    assert.equal(wm.pending, 0);
    for (let round = 0; round < 3; round++) {
      const before: Position | undefined = wm.position;
      const watched = Array.from({ length: 3_000 }, (_, i) => wm.begin(String(10_000 * (round + 1) + i), 3));
      wm.complete(watched[1] as number);
      assert.deepEqual(wm.position, before, 'the first watched item is not done yet');
      for (const seq of watched) wm.complete(seq);
      assert.deepEqual(wm.position, { resourceVersion: String(10_000 * (round + 1) + 2_999), atMs: 3 });
      assert.equal(wm.pending, 0);
    }
    // A stale sequence number (passed long ago) changes nothing.
    wm.complete(listed[5] as number);
    assert.equal(wm.pending, 0);
  });
});
