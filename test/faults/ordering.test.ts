/**
 * Time order at the process level: the built CLI against the fake API server and the fake Loki
 * with a stock Loki's rules (1 h out-of-order window per stream). Lists come in key order with
 * times spread over hours; an event bumped while the shipper is down can carry a time hours older
 * than what its stream already holds.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { FaultRig, isoAgo } from './harness.js';

const HOUR_MS = 3_600_000;

describe('fault suite: time order against a stock Loki', () => {
  let rig: FaultRig | undefined;
  afterEach(async () => {
    await rig?.close();
    rig = undefined;
  });

  it('--initial all over a list whose times span 6 h in key order: nothing refused, nothing lost, nothing retimed', async () => {
    rig = await FaultRig.start();
    const r = rig;
    let i = 0;
    // Key order (namespace/name) is unrelated to time order: times jump over 6 h.
    r.create(600, { time: () => isoAgo(60_000 + ((i++ * 7_919) % 600) * 36_000) });
    const shipper = await r.spawn();
    await r.assertClean();
    assert.deepEqual(r.loki.refusals(), [], 'Loki refused nothing');
    assert.equal(await shipper.metric('kube_event_shipper_entries_retimed_total', { reason: 'out_of_order' }), 0);
  });

  it('an event bumped with a 3 h old time while the shipper is down, then compaction: retimed, counted, not lost', async () => {
    rig = await FaultRig.start();
    const r = rig;
    const [victim] = r.create(1, { time: () => isoAgo(4 * HOUR_MS), namespace: 'shop' });
    let shipper = await r.spawn();
    await r.waitDelivered();
    r.create(3, { namespace: 'shop' }); // the stream now holds entries from now
    await r.waitDelivered();
    await new Promise((resolve) => setTimeout(resolve, 500)); // a checkpoint after them
    await shipper.stop('SIGTERM');
    r.bumpUid(String((victim!['metadata'] as { uid: string }).uid), 3 * HOUR_MS);
    r.compactPastShipper();
    shipper = await r.spawn();
    await r.assertClean();
    assert.deepEqual(r.loki.refusals(), [], 'Loki refused nothing');
    assert.equal(await shipper.metric('kube_event_shipper_entries_retimed_total', { reason: 'out_of_order' }), 1);
    assert.ok(r.loki.entries().some((e) => / count=2 /.test(e.line) && /original_ts=/.test(e.line)), 'the true time is in the line');
  });
});
