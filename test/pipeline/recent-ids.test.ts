import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { RecentIds } from '../../src/pipeline/recent-ids.js';

/** What a version-1 checkpoint stored per id: the first 8 bytes of SHA-256 (written here independently of src/). */
function sha256Ids(ids: readonly string[]): string {
  return Buffer.concat(ids.map((id) => createHash('sha256').update(id).digest().subarray(0, 8))).toString('base64');
}

describe('recent occurrence ids', () => {
  it('remembers ids and evicts the oldest beyond capacity', () => {
    const ids = new RecentIds(3);
    for (const id of ['a', 'b', 'c', 'd']) ids.add(id);
    assert.equal(ids.size, 3);
    assert.equal(ids.has('a'), false);
    assert.ok(ids.has('b') && ids.has('c') && ids.has('d'));
    ids.add('b'); // refreshed: now the newest
    ids.add('e');
    assert.equal(ids.has('c'), false);
    assert.ok(ids.has('b'));
  });

  it('round-trips through its serialised form, keeping the order', () => {
    const ids = new RecentIds(10);
    for (let i = 0; i < 10; i++) ids.add(`id-${i}`);
    const copy = new RecentIds(5);
    assert.ok(copy.load(ids.serialize()));
    assert.equal(copy.size, 5);
    assert.ok(copy.has('id-9') && copy.has('id-5') && !copy.has('id-4'));
    assert.equal(new RecentIds().load('not base64!'), false);
  });
});

describe('recent ids from a version-1 checkpoint (SHA-256 hashes)', () => {
  it('still knows every id they hold, and nothing else', () => {
    const ids = new RecentIds(10);
    assert.ok(ids.load(sha256Ids(['uid-a:1:100', 'uid-b:3:200']), 'sha256'));
    assert.equal(ids.size, 2);
    assert.ok(ids.has('uid-a:1:100') && ids.has('uid-b:3:200'));
    assert.equal(ids.has('uid-a:2:100'), false);
    assert.equal(ids.serialize(), '', 'nothing hashed the current way yet');
    assert.equal(ids.serialize('sha256'), sha256Ids(['uid-a:1:100', 'uid-b:3:200']), 'written back as read');
  });

  it('age out first (they are the oldest), in their order, and an id added again becomes a current one', () => {
    const ids = new RecentIds(3);
    assert.ok(ids.load(sha256Ids(['old-1', 'old-2', 'old-3']), 'sha256'));
    ids.add('old-2'); // shipped again (or seen again): now current, and the newest
    assert.equal(ids.serialize('sha256'), sha256Ids(['old-1', 'old-3']));
    ids.add('new-1');
    assert.equal(ids.has('old-1'), false, 'the oldest went first');
    assert.ok(ids.has('old-2') && ids.has('old-3') && ids.has('new-1'));
    ids.add('new-2');
    assert.equal(ids.has('old-3'), false);
    assert.equal(ids.serialize('sha256'), '', 'none left');
    assert.equal(ids.size, 3);
    assert.ok(ids.has('old-2') && ids.has('new-1') && ids.has('new-2'));
  });

  it('round-trip beside the current ones, loaded first', () => {
    const ids = new RecentIds(4);
    assert.ok(ids.load(sha256Ids(['old-1', 'old-2']), 'sha256'));
    ids.add('new-1');
    ids.add('new-2');
    const copy = new RecentIds(3);
    assert.ok(copy.load(ids.serialize('sha256'), 'sha256'));
    assert.ok(copy.load(ids.serialize()));
    assert.equal(copy.size, 3);
    assert.ok(!copy.has('old-1') && copy.has('old-2') && copy.has('new-1') && copy.has('new-2'), 'the oldest legacy id was evicted');
    assert.equal(new RecentIds().load(Buffer.alloc(7).toString('base64'), 'sha256'), false, 'not whole hashes');
  });
});
