/**
 * Process faults: the shipper is killed (-9) or told to stop (SIGTERM) while events keep coming;
 * each successor resumes from the checkpoint file and Loki ends with every occurrence exactly once.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { afterEach, describe, it } from 'node:test';
import { sleep } from '../support/wait.js';
import { FaultRig } from './harness.js';

describe('fault suite: the shipper process dies or is stopped', () => {
  let rig: FaultRig | undefined;
  afterEach(async () => {
    await rig?.close();
    rig = undefined;
  });

  it('kill -9 three times, with events created and bumped while it is down, loses and duplicates nothing', async () => {
    rig = await FaultRig.start({ api: 'events.k8s.io/v1' });
    const r = rig;
    r.create(20);
    let shipper = await r.spawn();
    // The initial list sees only each Event's newest state: bump only after it was read.
    await r.waitDelivered();
    // Without a checkpoint a successor starts afresh and lists, which sees newest states only.
    await r.until('a first checkpoint', () => existsSync(r.checkpointFile));
    for (let round = 0; round < 3; round++) {
      // A burst while it runs: part of it is in flight when the kill comes.
      r.create(30);
      r.bump(15);
      await r.until('some of the burst in Loki', () => r.verdict().stored > 0);
      await sleep(100 + round * 150);
      await shipper.stop('SIGKILL');
      r.create(10);
      r.bump(10);
      shipper = await r.spawn();
    }
    r.create(5);
    r.bump(5);
    await r.assertClean();
  });

  it('SIGTERM during a burst exits 0 within the grace period, and the successor ships the rest', async () => {
    rig = await FaultRig.start();
    const r = rig;
    const first = await r.spawn(['--grace-period', '5s']);
    r.create(10);
    await r.waitDelivered();
    const burst = new AbortController();
    const driving = r.drive(burst.signal, 2);
    await r.until('the burst reaching Loki', () => r.verdict().stored > 40);
    const stoppedAt = Date.now();
    const result = await first.stop('SIGTERM');
    const tookMs = Date.now() - stoppedAt;
    assert.equal(result.code, 0, result.stderr.slice(-2000));
    assert.ok(tookMs < 5_000, `exited ${tookMs} ms after SIGTERM, past the 5 s grace period`);
    await sleep(300); // events keep coming while nobody ships
    await r.spawn();
    await sleep(300);
    burst.abort();
    await driving;
    await r.assertClean();
  });
});
