/**
 * API server faults while events keep coming: compaction (both 410 forms), an outage with
 * connection refused, a stalled watch, repeated empty answers, an expired continue token, and an
 * event bumped with an old time while the shipper was down. What the API server still holds must
 * all reach Loki, once.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { sleep } from '../support/wait.js';
import { FaultRig } from './harness.js';
import { TcpGate } from './gates.js';

describe('fault suite: the API server misbehaves', () => {
  let rig: FaultRig | undefined;
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    await rig?.close();
    rig = undefined;
    for (const close of closers.splice(0)) await close();
  });

  it('compaction forces a relist, by an in-stream ERROR 410 and by an HTTP 410: nothing lost, nothing twice', async () => {
    rig = await FaultRig.start();
    const r = rig;
    const shipper = await r.spawnShipping();
    const stop = r.driving();
    // In-stream form: the watch ends, the re-watch from a compacted resourceVersion gets 200 + ERROR 410.
    await sleep(500);
    r.compactPastShipper();
    r.kube.endWatches();
    await r.until('a relist after the in-stream 410', async () => (await shipper.metric('kube_event_shipper_relists_total', { reason: 'gone' })) >= 1);
    await sleep(500);
    // HTTP form: the re-watch is answered 410 Gone.
    r.compactPastShipper();
    r.kube.injectFault('watch', { kind: 'gone' });
    r.kube.endWatches();
    await r.until('a relist after the HTTP 410', async () => (await shipper.metric('kube_event_shipper_relists_total', { reason: 'gone' })) >= 2);
    await sleep(500);
    await stop();
    await r.assertClean();
  });

  it('an API server outage with connection refused: the watch resumes where it was', async () => {
    rig = await FaultRig.start({ api: 'events.k8s.io/v1' });
    const r = rig;
    const gate = await TcpGate.start(r.kube.url);
    closers.push(() => gate.close());
    r.kubeUrl = gate.url;
    await r.spawnShipping();
    const stop = r.driving();
    await sleep(300);
    await gate.refuse();
    await sleep(4_000);
    await gate.accept();
    await sleep(500);
    await stop();
    await r.assertClean();
  });

  it('a stalled watch (200, then only whitespace) is restarted after --stall-timeout and misses nothing', async () => {
    rig = await FaultRig.start();
    const r = rig;
    const shipper = await r.spawnShipping(['--stall-timeout', '2s']);
    // Whitespace keeps the connection looking alive, but no event or bookmark comes.
    r.kube.injectFault('watch', { kind: 'stall', trickle: true, trickleMs: 200 });
    r.kube.endWatches();
    const stop = r.driving();
    await r.until('the stalled watch restarted', async () => (await shipper.metric('kube_event_shipper_watch_restarts_total', { reason: 'stall' })) >= 1, 10_000);
    await sleep(300);
    await stop();
    await r.assertClean();
  });

  it('repeated empty 200 answers to the watch: it keeps trying and misses nothing', async () => {
    rig = await FaultRig.start({ api: 'events.k8s.io/v1' });
    const r = rig;
    await r.spawnShipping();
    r.kube.injectFault('watch', { kind: 'empty-200' }, 3);
    r.kube.endWatches();
    // New events and bumps meanwhile: the reflector watches again from its position (no relist,
    // which would hold each Event's newest state only), so no superseded occurrence is lost.
    const stopCreating = r.driving(100);
    await r.until('every empty answer used', () => r.kube.pendingFaults === 0, 25_000);
    await sleep(500);
    await stopCreating();
    const stop = r.driving();
    await sleep(500);
    await stop();
    await r.assertClean();
  });

  it('an expired continue token in the middle of a paged list: the list starts again and misses nothing', async () => {
    rig = await FaultRig.start();
    const r = rig;
    r.create(95);
    r.kube.injectFault('list', { kind: 'expired-continue' });
    await r.spawn(['--page-size', '10']);
    await r.waitDelivered();
    assert.equal(r.kube.pendingFaults, 0, 'the expired token was served');
    const stop = r.driving();
    await sleep(500);
    await stop();
    await r.assertClean();
  });
});
