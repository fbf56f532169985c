/**
 * Two shipper processes (the built binary) against the fake API server, sharing a Lease and a
 * ConfigMap checkpoint. The leader is killed with SIGKILL (no release, no final checkpoint); the
 * standby takes over within the lease duration, resumes from the checkpoint, and Loki ends up with
 * every occurrence exactly once.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FakeKubeApiServer } from '../fakes/kube-api-server.js';
import { coreEvent } from '../fakes/kube-events.js';
import { startFakeLoki, type FakeLoki } from '../fakes/loki-receiver.js';
import { writeKubeconfig } from '../cli/kube-env.js';
import { cleanEnv, startCli, type Spawned } from '../cli/run-cli.js';

const LEASE_DURATION_MS = 2000;
const now = (): string => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

async function until(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('leader election with two shipper processes', () => {
  let kube: FakeKubeApiServer;
  let loki: FakeLoki;
  const running: Spawned[] = [];
  before(async () => {
    kube = await FakeKubeApiServer.start();
    loki = await startFakeLoki();
  });
  after(async () => {
    for (const s of running) s.child.kill('SIGKILL');
    await Promise.all(running.map((s) => s.result));
    await kube.close();
    await loki.close();
  });

  it('killing the leader hands over within the lease duration, with no loss and no duplicate', async () => {
    const env = cleanEnv();
    const kubeconfig = writeKubeconfig(env['HOME'] ?? '', kube.url);
    const start = (identity: string): Spawned => {
      const spawned = startCli(
        [
          'run',
          '--initial=all',
          '--kubeconfig', kubeconfig,
          '--loki-url', loki.url,
          '--listen', '127.0.0.1:0',
          '--leader-elect',
          '--lease', 'kes/kube-event-shipper',
          '--lease-duration', `${LEASE_DURATION_MS}ms`,
          '--lease-renew-deadline', '1500ms',
          '--lease-retry-period', '200ms',
          '--identity', identity,
          '--checkpoint-configmap', 'kes/kube-event-shipper-checkpoint',
          '--checkpoint-interval', '100ms',
          '--batch-max-wait', '50ms',
        ],
        { env },
      );
      running.push(spawned);
      return spawned;
    };
    const uids = new Set<string>();
    let lastEventRv = 0;
    const create = (count: number): void => {
      for (let i = 0; i < count; i++) {
        const stored = kube.createEvent(coreEvent({ namespace: 'shop', objectName: `pod-${uids.size}`, time: now() }));
        const metadata = stored['metadata'] as { uid: string; resourceVersion: string };
        uids.add(metadata.uid);
        lastEventRv = Number(metadata.resourceVersion);
      }
    };
    const delivered = (): string[] => loki.entries().map((e) => e.structuredMetadata['event_uid'] ?? '');

    create(10);
    const a = start('shipper-a');
    await a.waitFor('stderr', /"msg":"became leader"/);
    const b = start('shipper-b');
    await b.waitFor('stderr', /"msg":"campaigning for the lease"/);
    await until('the first 10 events in Loki', () => delivered().length >= 10);

    create(10);
    await until('20 events in Loki', () => delivered().length >= 20);
    // The checkpoint must cover what Loki holds before the leader dies, or the overlap is re-sent.
    // (The fake's revision counter also moves with Lease and ConfigMap writes, hence "at least".)
    await until('the checkpoint reaches the newest event', () => {
      const cm = kube.getObject('configmaps', 'kes', 'kube-event-shipper-checkpoint') as { data?: Record<string, string> } | undefined;
      const text = cm?.data?.['checkpoint.json'];
      return text !== undefined && Number((JSON.parse(text) as { resourceVersions: Record<string, string> }).resourceVersions['*']) >= lastEventRv;
    });
    assert.equal(b.output().stderr.includes('"msg":"became leader"'), false, 'the standby stays standby');

    a.child.kill('SIGKILL');
    const killedAt = Date.now();
    await a.result;
    create(10); // while nobody leads
    await b.waitFor('stderr', /"msg":"became leader"/, 10_000);
    const takeoverMs = Date.now() - killedAt;
    assert.ok(takeoverMs < LEASE_DURATION_MS + 1500, `took over after ${takeoverMs} ms`);

    await until('all 30 events in Loki', () => delivered().length >= 30);
    create(5);
    await until('all 35 events in Loki', () => delivered().length >= 35);
    b.child.kill('SIGTERM');
    const result = await b.result;
    assert.equal(result.code, 0, result.stderr.slice(-2000));

    const got = delivered();
    assert.equal(got.length, 35, 'no duplicate');
    assert.deepEqual(new Set(got), uids, 'no loss');
    const lease = kube.getObject('leases', 'kes', 'kube-event-shipper') as { spec?: { holderIdentity?: string } } | undefined;
    assert.equal(lease?.spec?.holderIdentity, '', 'b released the lease on SIGTERM');
  });
});
