import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Backoff, DEFAULT_BACKOFF } from '../../src/core/backoff.js';
import { ManualClock } from '../support/manual-clock.js';

describe('the backoff', () => {
  describe('with extra jitter (watch reconnects, checkpoint reads)', () => {
    const options = { initialMs: 100, maxMs: 1_000, jitter: { kind: 'extra', share: 0.5 }, resetAfterMs: 10_000 } as const;

    it('doubles from the initial delay up to the cap, with jitter on top but never past the cap', () => {
      const backoff = new Backoff(options, new ManualClock(), () => 0.5);
      const delays = Array.from({ length: 6 }, () => backoff.next());
      assert.deepEqual(delays, [125, 250, 500, 1_000, 1_000, 1_000]);
    });

    it('spreads delays with the random source (no jitter at 0, +50 % at almost 1)', () => {
      assert.equal(new Backoff(options, new ManualClock(), () => 0).next(), 100);
      assert.equal(new Backoff(options, new ManualClock(), () => 0.999).next(), 150);
    });

    it('starts again from the initial delay after a healthy period', () => {
      const clock = new ManualClock();
      const backoff = new Backoff(options, clock, () => 0);
      backoff.next();
      backoff.next();
      clock.advance(5_000);
      assert.equal(backoff.next(), 400, 'failures close together keep growing');
      clock.advance(10_001);
      assert.equal(backoff.next(), 100, 'a healthy period resets it');
    });

    it('reset() starts from the initial delay at once', () => {
      const backoff = new Backoff(options, new ManualClock(), () => 0);
      backoff.next();
      backoff.next();
      backoff.reset();
      assert.equal(backoff.next(), 100);
    });

    it('the default starts at 0.8 s and stops at 30 s', () => {
      const backoff = new Backoff(DEFAULT_BACKOFF, new ManualClock(), () => 0);
      const delays = Array.from({ length: 8 }, () => backoff.next());
      assert.deepEqual(delays, [800, 1_600, 3_200, 6_400, 12_800, 25_600, 30_000, 30_000]);
    });
  });

  describe('with full jitter (Loki pushes)', () => {
    const options = { initialMs: 500, maxMs: 3_000, jitter: { kind: 'full' }, maxServerDelayMs: 300_000 } as const;

    it('picks anywhere below the doubling, capped delay', () => {
      const high = new Backoff(options, new ManualClock(), () => 0.999);
      assert.deepEqual(Array.from({ length: 5 }, () => high.next()), [499, 999, 1_998, 2_997, 2_997]);
      const half = new Backoff(options, new ManualClock(), () => 0.5);
      assert.deepEqual(Array.from({ length: 3 }, () => half.next()), [250, 500, 1_000]);
      assert.equal(new Backoff(options, new ManualClock(), () => 0).next(), 0);
    });

    it('never forgets failures without resetAfterMs, and stays capped after very many', () => {
      const clock = new ManualClock();
      const backoff = new Backoff(options, clock, () => 0.999);
      for (let i = 0; i < 2_000; i++) backoff.next();
      clock.advance(86_400_000);
      assert.equal(backoff.next(), 2_997);
    });

    it('a server-asked delay wins up to maxServerDelayMs, but not below the initial delay', () => {
      const backoff = new Backoff(options, new ManualClock(), () => 0.999);
      assert.equal(backoff.next(7_000), 7_000);
      assert.equal(backoff.next(0), 500, 'Retry-After: 0 cannot make a zero-delay loop');
      assert.equal(backoff.next(3_600_000), 300_000);
      assert.equal(backoff.next(), 2_997, 'server delays count as attempts');
    });

    it('without maxServerDelayMs a server-asked delay is capped at maxMs', () => {
      const backoff = new Backoff({ initialMs: 500, maxMs: 3_000, jitter: { kind: 'full' } }, new ManualClock(), () => 0.5);
      assert.equal(backoff.next(60_000), 3_000);
    });
  });
});
