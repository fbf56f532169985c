import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IdSet } from '../../src/pipeline/id-set.js';

describe('the set of seen occurrence ids', () => {
  it('holds every id added, answers a second add with false, and knows none it was not given, across growth', () => {
    const set = new IdSet();
    const id = (i: number): string => `b0000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}:${i % 7}:17900000000${i}`;
    for (let i = 0; i < 100_000; i++) assert.equal(set.add(id(i)), true);
    assert.equal(set.size, 100_000);
    for (let i = 0; i < 100_000; i++) assert.equal(set.has(id(i)), true);
    for (let i = 0; i < 100_000; i += 997) assert.equal(set.add(id(i)), false, 'already there');
    assert.equal(set.size, 100_000);
    for (let i = 100_000; i < 200_000; i++) assert.equal(set.has(id(i)), false);
    assert.equal(set.has(''), false);
    assert.equal(set.add(''), true);
    assert.equal(set.has(''), true);
  });
});
