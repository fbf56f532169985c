/**
 * Loki faults while events keep coming: refusals, rate limits, a receiver that is down, hangs, or
 * sits behind a gateway that rotates its token or limits the body size. Nothing is lost but what
 * Loki itself refused with a 400, and that is counted.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { FaultRig, occurrenceOf } from './harness.js';
import { TcpGate } from './gates.js';

describe('fault suite: Loki misbehaves', () => {
  let rig: FaultRig | undefined;
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    await rig?.close();
    rig = undefined;
    for (const close of closers.splice(0)) await close();
  });

  it('429 bursts are retried: nothing lost, nothing twice', async () => {
    rig = await FaultRig.start({ api: 'events.k8s.io/v1' });
    const r = rig;
    await r.spawnShipping();
    for (let burst = 0; burst < 3; burst++) {
      r.loki.script(...Array.from({ length: 3 }, () => ({ status: 429, body: 'Ingestion rate limit exceeded for user fake (limit: 4194304 bytes/sec) while attempting to ingest 40 lines totaling 4000 bytes, reduce log volume or contact your Loki administrator to see if the limit can be increased\n' })));
      await r.driveFor(400);
      // One burst at a time: the next starts once Loki answered this one.
      await r.until('a push accepted after the burst', () => r.loki.requests.filter((q) => q.answer === 429).length >= 3 * (burst + 1) && r.loki.requests.at(-1)?.answer === 204);
    }
    await r.assertClean();
    assert.ok(r.loki.requests.filter((q) => q.answer === 429).length >= 9, 'every scripted 429 was answered');
  });

  it('a Loki that refuses connections for a while: delivery resumes once it is back', async () => {
    rig = await FaultRig.start();
    const r = rig;
    const gate = await TcpGate.start(r.loki.url);
    closers.push(() => gate.close());
    r.lokiUrl = gate.url;
    await r.spawn();
    r.create(10);
    await r.waitDelivered();
    await gate.refuse();
    await r.driveFor(3_000);
    await gate.accept();
    await r.driveFor(500);
    await r.assertClean();
  });

  it('a batch answered 400 naming no entry is dropped whole, counted as loki_rejected, and nothing else', async () => {
    rig = await FaultRig.start();
    const r = rig;
    const shipper = await r.spawn();
    r.create(10);
    await r.waitDelivered();
    const before = r.loki.requests.length;
    r.loki.script({ status: 400, body: 'error at storage, the push cannot be read\n' });
    r.create(10);
    r.bump(5);
    await r.until('the 400 answer', () => r.loki.requests.slice(before).some((q) => q.answer === 400));
    const refused = r.loki.requests.slice(before).find((q) => q.answer === 400);
    const named = (refused?.streams ?? []).flatMap((s) => s.entries.map((e) => occurrenceOf(e) ?? ''));
    assert.ok(named.length > 0, 'the refused push carried entries');
    for (const k of named) r.expectedDrops.add(k);
    await r.driveFor(500);
    await r.assertClean();
    assert.equal(await shipper.metric('kube_event_shipper_events_dropped_total', { reason: 'loki_rejected' }), named.length, 'each refused entry counted once');
    assert.equal(await shipper.metric('kube_event_shipper_events_dropped_total'), named.length, 'no other drop');
  });

  it('a hanging receiver: the push times out and is retried until Loki answers', async () => {
    rig = await FaultRig.start();
    const r = rig;
    await r.spawn(['--loki-timeout', '1s']);
    r.create(5);
    await r.waitDelivered();
    r.loki.script({ hang: true }, { hang: true }, { hang: true });
    await r.driveFor(2_500);
    await r.assertClean();
    assert.ok(r.loki.requests.filter((q) => q.answer === 'hang').length === 3, 'three pushes hung');
  });
});
