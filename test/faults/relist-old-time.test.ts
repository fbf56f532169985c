/**
 * An event bumped while the shipper is down, its new occurrence time older than the shipper's last
 * position (series writers report late; node clocks skew), then compaction: the relist that
 * follows must ship it, since its resourceVersion proves it changed after the position.
 */
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FaultRig } from './harness.js';

describe('fault suite: a relist after an old-time bump', () => {
  let rig: FaultRig | undefined;
  afterEach(async () => {
    await rig?.close();
    rig = undefined;
  });

  it('an event bumped with an old occurrence time while the shipper is down, then compaction: the relist ships it', async () => {
    rig = await FaultRig.start();
    const r = rig;
    const first = await r.spawnShipping();
    const made = r.create(8);
    await r.waitDelivered();
    const result = await first.stop('SIGTERM');
    assert.equal(result.code, 0, result.stderr.slice(-2000));
    // Reported late (a series writer, a skewed node clock): 20 minutes before the last position.
    for (const obj of made.slice(0, 3)) r.bumpUid(String((obj['metadata'] as { uid: string }).uid), 20 * 60_000);
    r.compactPastShipper();
    await r.spawn();
    await r.assertClean();
  });
});
