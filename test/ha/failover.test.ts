/**
 * Two shipper processes (the built binary) against the fake API server, sharing a Lease and a
 * ConfigMap checkpoint. The leader is killed with SIGKILL (no release, no final checkpoint); the
 * standby takes over within the lease duration and resumes from the checkpoint. Killed right after
 * a checkpoint, Loki ends up with every occurrence exactly once; killed inside the checkpoint
 * interval, what the leader shipped after its last checkpoint is shipped again, byte for byte (same
 * stream, timestamp, line and metadata), which Loki stores once. Stopped with SIGTERM while Loki is
 * slow, the leader keeps its Lease through the drain and hands over only after its final checkpoint.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { FakeKubeApiServer } from '../fakes/kube-api-server.js';
import { coreEvent } from '../fakes/kube-events.js';
import { startFakeLoki, type FakeLoki, type StoredEntry } from '../fakes/loki-receiver.js';
import { writeKubeconfig } from '../support/kube-env.js';
import { cleanEnv, startCli, type Spawned } from '../support/run-cli.js';
import { until } from '../support/wait.js';

const LEASE_DURATION_MS = 2000;
const CHECKPOINT = { namespace: 'kes', name: 'kube-event-shipper-checkpoint' };
const now = (): string => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

describe('leader election with two shipper processes', () => {
  let kube: FakeKubeApiServer;
  let loki: FakeLoki;
  let running: Spawned[];
  let kubeconfig: string;
  let env: Record<string, string>;
  let uids: Set<string>;
  let lastEventRv: number;

  beforeEach(async () => {
    kube = await FakeKubeApiServer.start();
    loki = await startFakeLoki();
    running = [];
    env = cleanEnv();
    kubeconfig = writeKubeconfig(env['HOME'] ?? '', kube.url);
    uids = new Set();
    lastEventRv = 0;
  });
  afterEach(async () => {
    for (const s of running) s.child.kill('SIGKILL');
    await Promise.all(running.map((s) => s.result));
    await kube.close();
    await loki.close();
  });

  const start = (identity: string, checkpointInterval: string): Spawned => {
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
        '--checkpoint-configmap', `${CHECKPOINT.namespace}/${CHECKPOINT.name}`,
        '--checkpoint-interval', checkpointInterval,
        '--batch-max-wait', '50ms',
      ],
      { env },
    );
    running.push(spawned);
    return spawned;
  };
  /** Creates `count` events now; returns their uids. */
  const create = (count: number): string[] => {
    const made: string[] = [];
    for (let i = 0; i < count; i++) {
      const stored = kube.createEvent(coreEvent({ namespace: 'shop', objectName: `pod-${uids.size}`, time: now() }));
      const metadata = stored['metadata'] as { uid: string; resourceVersion: string };
      uids.add(metadata.uid);
      made.push(metadata.uid);
      lastEventRv = Number(metadata.resourceVersion);
    }
    return made;
  };
  const delivered = (): string[] => loki.entries().map((e) => e.structuredMetadata['event_uid'] ?? '');
  const distinctDelivered = (): number => new Set(delivered()).size;
  /** The checkpoint's resourceVersion, or undefined before the first write. */
  const checkpointRv = (): number | undefined => {
    const cm = kube.getObject('configmaps', CHECKPOINT.namespace, CHECKPOINT.name) as { data?: Record<string, string> } | undefined;
    const text = cm?.data?.['checkpoint.json'];
    return text === undefined ? undefined : Number((JSON.parse(text) as { resourceVersions: Record<string, string> }).resourceVersions['*']);
  };
  const leaseSpec = (): { holderIdentity?: string; leaseTransitions?: number } | undefined =>
    (kube.getObject('leases', 'kes', 'kube-event-shipper') as { spec?: { holderIdentity?: string; leaseTransitions?: number } } | undefined)?.spec;
  const leaseHolder = (): string | undefined => leaseSpec()?.holderIdentity;

  it('killing the leader hands over within the lease duration, with no loss and no duplicate', async () => {
    create(10);
    const a = start('shipper-a', '100ms');
    await a.waitFor('stderr', /"msg":"became leader"/);
    const b = start('shipper-b', '100ms');
    await b.waitFor('stderr', /"msg":"campaigning for the lease"/);
    await until(() => delivered().length >= 10, 'the first 10 events in Loki', 10_000);

    create(10);
    await until(() => delivered().length >= 20, '20 events in Loki', 10_000);
    // The checkpoint must cover what Loki holds before the leader dies, or the overlap is re-sent.
    // (The fake's revision counter also moves with Lease and ConfigMap writes, hence "at least".)
    await until(() => (checkpointRv() ?? 0) >= lastEventRv, 'the checkpoint reaches the newest event', 10_000);
    assert.equal(b.output().stderr.includes('"msg":"became leader"'), false, 'the standby stays standby');

    a.child.kill('SIGKILL');
    await a.result;
    const abandoned = leaseSpec();
    assert.equal(abandoned?.holderIdentity, 'shipper-a', 'killed: no release');
    create(10); // while nobody leads
    await b.waitFor('stderr', /"msg":"became leader"/, 10_000);
    // When it takes over (after the lease expired, within a retry period of polling) is asserted on
    // the manual clock in leader-election.test.ts; two processes here run on real time.
    const taken = leaseSpec();
    assert.equal(taken?.holderIdentity, 'shipper-b');
    assert.equal(taken?.leaseTransitions, (abandoned?.leaseTransitions ?? 0) + 1, 'one hand-over');

    await until(() => delivered().length >= 30, 'all 30 events in Loki', 10_000);
    create(5);
    await until(() => delivered().length >= 35, 'all 35 events in Loki', 10_000);
    b.child.kill('SIGTERM');
    const result = await b.result;
    assert.equal(result.code, 0, result.stderr.slice(-2000));

    const got = delivered();
    assert.equal(got.length, 35, 'no duplicate');
    assert.deepEqual(new Set(got), uids, 'no loss');
    assert.equal(leaseHolder(), '', 'b released the lease on SIGTERM');
  });

  it('killing the leader inside the checkpoint interval loses nothing, and what is sent again is byte-identical', async () => {
    // A first leader ships 10 events and, shutting down, writes the checkpoint after them.
    const first = create(10);
    const a0 = start('shipper-a0', '1h');
    await a0.waitFor('stderr', /"msg":"became leader"/);
    await until(() => distinctDelivered() >= 10, 'the first 10 events in Loki', 10_000);
    a0.child.kill('SIGTERM');
    const a0Result = await a0.result;
    assert.equal(a0Result.code, 0, a0Result.stderr.slice(-2000));
    const checkpointed = checkpointRv();
    assert.ok(checkpointed !== undefined && checkpointed >= lastEventRv, 'the final checkpoint covers the first 10');

    // The next leader writes its checkpoint only every hour: it dies inside the interval.
    const a = start('shipper-a', '1h');
    await a.waitFor('stderr', /"msg":"became leader"/);
    const b = start('shipper-b', '1h');
    await b.waitFor('stderr', /"msg":"campaigning for the lease"/);
    const shippedUnrecorded = create(10);
    await until(() => distinctDelivered() >= 20, '20 events in Loki', 10_000);
    assert.equal(checkpointRv(), checkpointed, 'killed inside the interval: the checkpoint is still the one before these 10');

    a.child.kill('SIGKILL');
    await a.result;
    create(10); // while nobody leads
    await b.waitFor('stderr', /"msg":"became leader"/, 10_000);
    await until(() => distinctDelivered() >= 30, 'all 30 events in Loki', 10_000);
    create(5);
    await until(() => distinctDelivered() >= 35, 'all 35 events in Loki', 10_000);
    b.child.kill('SIGTERM');
    const result = await b.result;
    assert.equal(result.code, 0, result.stderr.slice(-2000));

    // What was sent, re-sends included (Loki itself keeps one copy of a byte-identical re-send).
    const entries = loki.received();
    assert.deepEqual(new Set(entries.map((e) => e.structuredMetadata['event_uid'])), uids, 'no loss');
    assert.deepEqual(new Set(loki.entries().map((e) => e.structuredMetadata['event_uid'])), uids, 'Loki stored every one');
    assert.equal(loki.entries().length, uids.size, 'Loki stored each once');
    const byUid = new Map<string, StoredEntry[]>();
    for (const e of entries) {
      const uid = e.structuredMetadata['event_uid'] ?? '';
      byUid.set(uid, [...(byUid.get(uid) ?? []), e]);
    }
    const duplicated = [...byUid].filter(([, es]) => es.length > 1);
    // Resumed from the checkpoint: only what the dead leader shipped after it comes again.
    assert.deepEqual(new Set(duplicated.map(([uid]) => uid)), new Set(shippedUnrecorded), 'exactly the unrecorded 10 are sent again');
    assert.ok(first.every((uid) => byUid.get(uid)?.length === 1), 'nothing before the checkpoint is sent again');
    const wire = (e: StoredEntry): string => JSON.stringify([e.labels, e.ts, e.line, e.structuredMetadata]);
    for (const [uid, es] of duplicated) {
      for (const e of es) assert.equal(wire(e), wire(es[0]!), `the copies of ${uid} are byte-identical (stream, timestamp, line, metadata)`);
    }
    assert.equal(leaseHolder(), '', 'b released the lease on SIGTERM');
  });

  it('SIGTERM to the leader while Loki is slow: it keeps the lease through the drain, writes its final checkpoint, then releases; the standby resumes from there', async () => {
    create(10);
    const a = start('shipper-a', '1h');
    await a.waitFor('stderr', /"msg":"became leader"/);
    const b = start('shipper-b', '1h');
    await b.waitFor('stderr', /"msg":"campaigning for the lease"/);
    await until(() => distinctDelivered() >= 10, 'the first 10 events in Loki', 10_000);

    // Loki slows down: 5 more are in flight when SIGTERM comes, and the drain outlasts the lease.
    const slowMs = LEASE_DURATION_MS + 2000;
    loki.setDefaultReply({ delayMs: slowMs });
    const pushes = loki.requests.length;
    create(5);
    await loki.waitForRequests(pushes + 1);
    a.child.kill('SIGTERM');
    const drainEnds = Date.now() + slowMs - 500;
    while (Date.now() < drainEnds) {
      assert.equal(leaseHolder(), 'shipper-a', 'the leader holds the lease while it drains');
      assert.equal(b.output().stderr.includes('"msg":"became leader"'), false, 'the standby waits');
      await new Promise((r) => setTimeout(r, 50));
    }
    const aResult = await a.result;
    assert.equal(aResult.code, 0, aResult.stderr.slice(-2000));
    loki.setDefaultReply({ status: 204 });
    const checkpointed = checkpointRv();
    assert.ok(checkpointed !== undefined && checkpointed >= lastEventRv, 'the final checkpoint covers all 15');
    assert.match(aResult.stderr, /"msg":"lease released"/);

    await b.waitFor('stderr', /"msg":"became leader"/, 10_000);
    create(5);
    await until(() => distinctDelivered() >= 20, 'all 20 events in Loki', 10_000);
    b.child.kill('SIGTERM');
    const result = await b.result;
    assert.equal(result.code, 0, result.stderr.slice(-2000));
    const sent = loki.received().map((e) => e.structuredMetadata['event_uid']);
    assert.deepEqual(new Set(sent), uids, 'no loss');
    assert.equal(sent.length, uids.size, 'nothing sent twice: the standby resumed from the final checkpoint');
  });
});
