import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readFixtureJsonLines } from './fixtures.js';

describe('fixture corpora', () => {
  it('are reachable beside the repository', () => {
    assert.ok(readFixtureJsonLines('events/watch-core-v1.jsonl').length > 100);
  });
});
