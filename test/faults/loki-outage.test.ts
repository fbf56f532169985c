/**
 * Long Loki outages (kept apart so they run beside the other fault files): 503 for 30 s, and a
 * misrouted ingress answering 404 for 15 s. Events keep coming throughout; once Loki is back,
 * delivery resumes promptly and nothing is lost.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { sleep } from '../support/wait.js';
import { FaultRig } from './harness.js';

/** Loki is expected to be shipping again this soon after an outage of any length (10 s, plus slack for a loaded CI machine). */
const RECOVERY_MS = 15_000;

describe('fault suite: long Loki outages', () => {
  let rig: FaultRig | undefined;
  afterEach(async () => {
    await rig?.close();
    rig = undefined;
  });

  it('503 for 30 s: everything created meanwhile is delivered within seconds of Loki coming back', async () => {
    rig = await FaultRig.start({ api: 'events.k8s.io/v1' });
    const r = rig;
    await r.spawnShipping();
    r.loki.setDefaultReply({ status: 503, body: 'empty ring\n' });
    const stop = new AbortController();
    const driving = r.drive(stop.signal, 200);
    await sleep(30_000);
    r.loki.setDefaultReply({ status: 204 });
    stop.abort();
    await driving;
    await r.assertClean({ timeoutMs: RECOVERY_MS });
    assert.ok(r.loki.requests.filter((q) => q.answer === 503).length >= 3, 'the outage was seen');
  });

  it('404 for 15 s (misrouted ingress): not ready meanwhile, nothing dropped, ready again after', async () => {
    rig = await FaultRig.start();
    const r = rig;
    const shipper = await r.spawnShipping();
    // An ingress that routes nowhere: every path, /ready included, answers 404.
    r.loki.setDefaultReply({ status: 404, body: '404 page not found\n' });
    r.loki.setReady(404);
    const stop = new AbortController();
    const driving = r.drive(stop.signal, 200);
    await r.until('/readyz failing while pushes get 404', async () => (await shipper.get('/readyz')).status !== 200, 14_000);
    await sleep(15_000 - 1_000);
    r.loki.setDefaultReply({ status: 204 });
    r.loki.setReady(200);
    stop.abort();
    await driving;
    await r.assertClean({ timeoutMs: RECOVERY_MS });
    await r.until('/readyz passing again', async () => (await shipper.get('/readyz')).status === 200);
    assert.equal(await shipper.metric('kube_event_shipper_events_dropped_total'), 0, 'nothing dropped');
  });
});
