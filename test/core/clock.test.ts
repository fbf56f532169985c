import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { systemClock } from '../../src/core/clock.js';

describe('systemClock.sleep', () => {
  it('resolves after the delay', async () => {
    const start = Date.now();
    await systemClock.sleep(5);
    assert.ok(Date.now() - start >= 4);
  });

  it('rejects with the abort reason when aborted first', async () => {
    const controller = new AbortController();
    const sleeping = systemClock.sleep(60_000, controller.signal);
    controller.abort(new Error('stop'));
    await assert.rejects(sleeping, /stop/);
  });
});
