import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createHealthTracker } from '../../src/observe/health.js';
import { ManualClock } from '../support/manual-clock.js';

describe('health tracker', () => {
  it('a standby replica is live and ready', () => {
    const clock = new ManualClock();
    const health = createHealthTracker({ clock, stallTimeoutMs: 60_000 });
    clock.advance(3_600_000);
    assert.deepEqual(health.liveness(), { ok: true, reason: 'standby' });
    assert.deepEqual(health.readiness(), { ok: true, reason: 'standby' });
  });

  it('liveness fails once nothing progressed for longer than the stall timeout', () => {
    const clock = new ManualClock();
    const health = createHealthTracker({ clock, stallTimeoutMs: 60_000 });
    health.setActive(true);
    clock.advance(60_000);
    assert.equal(health.liveness().ok, true, 'exactly at the timeout is still fine');
    clock.advance(1);
    assert.equal(health.liveness().ok, false);
    assert.match(health.liveness().reason, /^stalled: no event, bookmark or push for 60s$/);
  });

  it('an event, a bookmark or a delivered push each count as progress', () => {
    const clock = new ManualClock();
    const health = createHealthTracker({ clock, stallTimeoutMs: 60_000 });
    health.setActive(true);
    clock.advance(50_000);
    health.sourceActivity();
    clock.advance(50_000);
    assert.equal(health.liveness().ok, true);
    health.sinkDelivered();
    clock.advance(50_000);
    assert.equal(health.liveness().ok, true);
    clock.advance(20_000);
    assert.equal(health.liveness().ok, false);
    health.sourceActivity();
    assert.equal(health.liveness().ok, true, 'recovers on the next progress');
  });

  it('a stall with pending entries says so', () => {
    const clock = new ManualClock();
    const health = createHealthTracker({ clock, stallTimeoutMs: 1000 });
    health.setActive(true);
    health.sinkPending(true);
    clock.advance(2000);
    assert.match(health.liveness().reason, /entries are pending but nothing was delivered/);
  });

  it('a failed push is progress: a long Loki outage does not fail liveness', () => {
    const clock = new ManualClock();
    const health = createHealthTracker({ clock, stallTimeoutMs: 60_000 });
    health.setActive(true);
    health.sinkPending(true);
    // The watch is paused by backpressure; only the sink's retries move, every few seconds.
    for (let t = 0; t < 30 * 60_000; t += 5_000) {
      clock.advance(5_000);
      health.sinkUnavailable({ cause: 'unavailable', summary: 'HTTP 503' });
      assert.equal(health.liveness().ok, true, `live at ${t / 1000}s of the outage`);
    }
    assert.equal(health.readiness().ok, false, 'but not ready');
    clock.advance(61_000);
    assert.match(health.liveness().reason, /entries are pending but nothing was delivered/, 'retries that stop are a stall');
  });

  it('readiness needs an open watch and a destination that answered', () => {
    const clock = new ManualClock();
    const health = createHealthTracker({ clock, stallTimeoutMs: 1000 });
    health.setActive(true);
    assert.deepEqual(health.readiness(), { ok: false, reason: 'no open watch' });
    health.watchOpen(true);
    assert.deepEqual(health.readiness(), { ok: false, reason: 'destination not yet seen reachable' });
    health.sinkDelivered();
    assert.deepEqual(health.readiness(), { ok: true, reason: 'ok' });
    health.sinkUnavailable();
    assert.deepEqual(health.readiness(), { ok: false, reason: 'destination unreachable' });
    health.sinkDelivered();
    assert.equal(health.readiness().ok, true);
    health.watchOpen(false);
    assert.equal(health.readiness().ok, false);
  });

  it('a destination probe makes it reachable or unreachable without counting as progress', () => {
    const clock = new ManualClock();
    const health = createHealthTracker({ clock, stallTimeoutMs: 1000 });
    health.setActive(true);
    health.watchOpen(true);
    health.destinationProbed(false);
    assert.deepEqual(health.readiness(), { ok: false, reason: 'destination unreachable' });
    clock.advance(900);
    health.destinationProbed(true);
    assert.deepEqual(health.readiness(), { ok: true, reason: 'ok' });
    assert.equal(health.lastDeliveryAt(), undefined, 'a probe is not a delivery');
    clock.advance(200);
    assert.equal(health.liveness().ok, false, 'a probe is not liveness progress');
  });

  it('a restart of the pipeline keeps what is known about the destination', () => {
    const clock = new ManualClock();
    const health = createHealthTracker({ clock, stallTimeoutMs: 1000 });
    health.setActive(true);
    health.sinkUnavailable();
    health.setActive(false);
    health.setActive(true);
    health.watchOpen(true);
    assert.deepEqual(health.readiness(), { ok: false, reason: 'destination unreachable' }, 'not reset to reachable');
  });

  it('a destination that needs no network (stdout) is always reachable', () => {
    const clock = new ManualClock();
    const health = createHealthTracker({ clock, stallTimeoutMs: 1000, destinationAlwaysReachable: true });
    health.setActive(true);
    health.watchOpen(true);
    assert.deepEqual(health.readiness(), { ok: true, reason: 'ok' });
    health.sinkUnavailable();
    assert.deepEqual(health.readiness(), { ok: true, reason: 'ok' });
  });

  it('becoming active again restarts the stall clock', () => {
    const clock = new ManualClock();
    const health = createHealthTracker({ clock, stallTimeoutMs: 1000 });
    health.setActive(true);
    health.setActive(false);
    clock.advance(5000);
    health.setActive(true);
    assert.equal(health.liveness().ok, true);
  });
});
