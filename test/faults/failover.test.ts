/**
 * Two replicas on one host (same host name, no --identity) with leader election and a shared
 * ConfigMap checkpoint: exactly one leads; when the leader is killed the other takes over and Loki
 * ends with every occurrence exactly once.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { sleep } from '../support/wait.js';
import { FaultRig, type ShipperProcess } from './harness.js';

describe('fault suite: failover between two replicas on one host', () => {
  let rig: FaultRig | undefined;
  afterEach(async () => {
    await rig?.close();
    rig = undefined;
  });

  it('the leader is killed: the other replica takes over, nothing lost, nothing twice', async () => {
    rig = await FaultRig.start({ api: 'events.k8s.io/v1' });
    const r = rig;
    const args = r.baseArgs();
    // One shared checkpoint, in a ConfigMap, instead of each replica's own file.
    args.splice(args.indexOf('--checkpoint-file'), 2);
    args.push(
      '--checkpoint-configmap', 'kes/kube-event-shipper-checkpoint',
      '--leader-elect', '--lease', 'kes/kube-event-shipper',
      '--lease-duration', '2s', '--lease-renew-deadline', '1500ms', '--lease-retry-period', '200ms',
    );
    const replicas = [await r.spawn([], { args }), await r.spawn([], { args })];
    const leading = async (p: ShipperProcess): Promise<boolean> => (await p.metric('kube_event_shipper_leader')) === 1;
    const leaders = async (): Promise<ShipperProcess[]> => {
      const flags = await Promise.all(replicas.filter((p) => !p.exited).map(async (p) => ((await leading(p)) ? [p] : [])));
      return flags.flat();
    };
    await r.until('one replica leads', async () => (await leaders()).length > 0);
    r.create(10);
    await r.waitDelivered();
    await sleep(1_000); // long enough for a second leader to show up, if identities collide
    const before = await leaders();
    assert.equal(before.length, 1, 'exactly one replica leads');
    const identities = r.kube.getObject('leases', 'kes', 'kube-event-shipper') as { spec?: { holderIdentity?: string } } | undefined;
    assert.ok(identities?.spec?.holderIdentity, 'the Lease names its holder');

    // Without a checkpoint the next leader starts afresh and lists, which sees newest states only.
    await r.until('a first checkpoint', () => r.kube.getObject('configmaps', 'kes', 'kube-event-shipper-checkpoint') !== undefined);
    const stop = new AbortController();
    const driving = r.drive(stop.signal, 100);
    await sleep(500);
    const leader = before[0]!;
    await leader.stop('SIGKILL');
    const standby = replicas.find((p) => p !== leader)!;
    await r.until('the other replica leads', () => leading(standby), 15_000);
    await sleep(500);
    stop.abort();
    await driving;
    await r.assertClean();
  });
});
