import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Backoff } from '../../src/source/backoff.js';
import { ManualClock } from '../support/manual-clock.js';

describe('the source backoff', () => {
  const options = { initialMs: 100, maxMs: 1_000, jitter: 0.5, resetAfterMs: 10_000 };

  it('doubles from the initial delay up to the cap, with jitter on top but never past the cap', () => {
    const clock = new ManualClock({ startMs: 1_000_000 });
    const backoff = new Backoff(options, clock, () => 0.5);
    const delays = Array.from({ length: 6 }, () => backoff.next());
    assert.deepEqual(delays, [125, 250, 500, 1_000, 1_000, 1_000]);
  });

  it('spreads delays with the random source (no jitter at 0, +50 % at almost 1)', () => {
    assert.equal(new Backoff(options, new ManualClock({ startMs: 1_000_000 }), () => 0).next(), 100);
    assert.equal(new Backoff(options, new ManualClock({ startMs: 1_000_000 }), () => 0.999).next(), 150);
  });

  it('starts again from the initial delay after a healthy period', () => {
    const clock = new ManualClock({ startMs: 1_000_000 });
    const backoff = new Backoff(options, clock, () => 0);
    backoff.next();
    backoff.next();
    clock.advance(5_000);
    assert.equal(backoff.next(), 400, 'failures close together keep growing');
    clock.advance(10_001);
    assert.equal(backoff.next(), 100, 'a healthy period resets it');
  });
});
