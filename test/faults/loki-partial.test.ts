import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { FaultRig, occurrenceKey } from './harness.js';

describe('fault suite: a partial 400', () => {
  let rig: FaultRig | undefined;
  afterEach(async () => {
    await rig?.close();
    rig = undefined;
  });
  it('one push answered 400 (a Loki with a 4 KB max_line_size) drops only the entries it names, counted as line_too_long; Loki stores the rest', async () => {
    rig = await FaultRig.start();
    const r = rig;
    r.loki.setLimits({ maxLineBytes: 4096 });
    const shipper = await r.spawnShipping(['--batch-max-wait', '300ms']);
    // One batch: good events around two whose 6 KB message makes a line over Loki's limit.
    r.create(5);
    const long = r.create(2, { message: (i) => `${i}`.padEnd(6 * 1024, 'y') });
    r.create(5);
    r.bump(4);
    for (const obj of long) r.expectedDrops.add(occurrenceKey(String((obj['metadata'] as { uid: string }).uid), 1));
    await r.until('the 400 answer', () => r.loki.requests.some((q) => q.answer === 400));
    const refused = r.loki.requests.find((q) => q.answer === 400);
    assert.ok((refused?.entryCount ?? 0) > 2, 'the refused push also carried good entries');
    await r.assertClean();
    assert.equal(await shipper.metric('kube_event_shipper_events_dropped_total', { reason: 'line_too_long' }), 2, 'each refused entry counted once, with its reason');
    assert.equal(await shipper.metric('kube_event_shipper_events_dropped_total'), 2, 'nothing else dropped');
  });
});
