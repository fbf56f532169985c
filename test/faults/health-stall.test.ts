/**
 * A stall long enough for liveness to notice (kept apart: /healthz needs at least a minute, the
 * smallest --health-stall-timeout): the API server stops answering at all (no status line, no
 * byte) while events keep being created. /healthz fails; once the server answers again it passes
 * again and everything created meanwhile reaches Loki.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { FaultRig } from './harness.js';

describe('fault suite: a stall that liveness must report', () => {
  let rig: FaultRig | undefined;
  afterEach(async () => {
    await rig?.close();
    rig = undefined;
  });

  it('an API server that hangs every request: /healthz fails during the stall and recovers after it', async () => {
    rig = await FaultRig.start();
    const r = rig;
    const shipper = await r.spawnShipping(['--stall-timeout', '2s', '--health-stall-timeout', '60s']);
    assert.equal((await shipper.get('/healthz')).status, 200, 'live before the stall');
    r.kube.injectFault('watch', { kind: 'hang' }, 1_000);
    r.kube.injectFault('list', { kind: 'hang' }, 1_000);
    r.kube.endWatches();
    const stop = new AbortController();
    const driving = r.drive(stop.signal, 500, false);
    await r.until('/healthz failing', async () => (await shipper.get('/healthz')).status !== 200, 90_000);
    r.kube.clearFaults();
    stop.abort();
    await driving;
    await r.until('/healthz passing again', async () => (await shipper.get('/healthz')).status === 200, 20_000);
    r.bump(5);
    await r.assertClean();
  });
});
