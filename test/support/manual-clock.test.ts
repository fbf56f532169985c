import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fastClock, ManualClock, steppingClock } from './manual-clock.js';

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('the test clock', () => {
  it('moves only on advance, resolving the sleeps that fall due, and records every sleep', async () => {
    const clock = new ManualClock({ startMs: 1_000 });
    const woke: number[] = [];
    void clock.sleep(100).then(() => woke.push(100));
    void clock.sleep(300).then(() => woke.push(300));
    await turn();
    assert.equal(clock.now(), 1_000);
    assert.deepEqual(woke, []);
    clock.advance(150);
    await turn();
    assert.deepEqual(woke, [100]);
    assert.equal(clock.pending, 1);
    clock.advance(150);
    await turn();
    assert.deepEqual(woke, [100, 300]);
    assert.deepEqual(clock.sleeps, [100, 300]);
  });

  it('rejects a sleep whose signal aborts, and forgets it', async () => {
    const clock = new ManualClock();
    const abort = new AbortController();
    const sleeping = clock.sleep(1_000, abort.signal);
    abort.abort(new Error('stop'));
    await assert.rejects(sleeping, /stop/);
    assert.equal(clock.pending, 0);
  });

  it('with autoAdvance ends each sleep on the next turn and jumps time to its end', async () => {
    const clock = new ManualClock({ startMs: 0, autoAdvance: true });
    await clock.sleep(5_000);
    assert.equal(clock.now(), 5_000);
  });

  it('fastClock reads the wall clock and ends sleeps at once without moving time', async () => {
    const clock = fastClock();
    const before = Date.now();
    await clock.sleep(60_000);
    const now = clock.now();
    assert.ok(now >= before && now < before + 60_000, 'time did not jump by the sleep');
    assert.deepEqual(clock.sleeps, [60_000]);
    clock.advance(3_600_000);
    assert.ok(clock.now() >= before + 3_600_000, 'advance still moves a wall-based clock');
  });

  it('steppingClock moves time on at every reading', () => {
    const clock = steppingClock(10_000, 1_000);
    assert.equal(clock.now(), 11_000);
    assert.equal(clock.now(), 12_000);
  });

  it('with realSleeps sleeps in real time, still recorded', async () => {
    const clock = new ManualClock({ startMs: 'wall', realSleeps: true });
    let woke = false;
    const sleeping = clock.sleep(20).then(() => (woke = true));
    await turn();
    assert.equal(woke, false, 'not over after one turn');
    await sleeping;
    assert.deepEqual(clock.sleeps, [20]);
  });
});
