import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { pino } from 'pino';
import { systemClock } from '../../src/core/clock.js';
import { createKubeRequest, type KubeRequest } from '../../src/kube/request.js';
import { createLeaderElector, microTime, type LeaderElectionOptions } from '../../src/ha/leader-election.js';
import { createMetrics } from '../../src/observe/metrics.js';
import { FakeKubeApiServer } from '../fakes/kube-api-server.js';

const silent = pino({ level: 'silent' });
const fast: Omit<LeaderElectionOptions, 'identity'> = {
  namespace: 'monitoring',
  name: 'kes',
  leaseDurationMs: 1000,
  renewDeadlineMs: 600,
  retryPeriodMs: 100,
};

/** Polls a condition on a short real-time tick, bounded so a broken elector fails instead of hanging. */
async function until(what: string, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The Lease's spec as the API server holds it now. */
function leaseSpec(api: FakeKubeApiServer): Record<string, unknown> | undefined {
  return api.getObject('leases', 'monitoring', 'kes')?.['spec'] as Record<string, unknown> | undefined;
}

/** A candidate whose API access can be cut, like a process that was killed; it notes the writes it sends. */
function candidate(api: FakeKubeApiServer, identity: string) {
  const metrics = createMetrics({ version: 't' });
  const real = createKubeRequest(api.kubeConfig());
  let dead = false;
  const writes: string[] = [];
  const request: KubeRequest = (method, path, options) => {
    if (dead) return Promise.reject(new Error('killed'));
    if (method !== 'GET') writes.push(method);
    return real(method, path, options);
  };
  const elector = createLeaderElector({ ...fast, identity }, { request, clock: systemClock, random: () => 0.5, logger: silent, metrics });
  const shutdown = new AbortController();
  const state = { working: false, starts: 0, aborts: 0 };
  const done = elector.runWhileLeader(async (signal) => {
    state.working = true;
    state.starts += 1;
    await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    state.aborts += 1;
    state.working = false;
  }, shutdown.signal);
  return {
    state,
    writes,
    metrics,
    done,
    kill: () => {
      dead = true;
    },
    stop: async () => {
      shutdown.abort();
      await done;
    },
    leaderGauge: async () => (await metrics.leader.get()).values[0]?.value,
  };
}

describe('leader election', () => {
  // A fresh API server per case: no Lease left over from the case before.
  let api: FakeKubeApiServer;
  beforeEach(async () => {
    api = await FakeKubeApiServer.start();
  });
  afterEach(async () => {
    await api.close();
  });

  it('MicroTime has exactly six fractional digits', () => {
    assert.equal(microTime(Date.UTC(2026, 10, 26, 21, 0, 0, 123)), '2026-11-26T21:00:00.123000Z');
  });

  it('a lone candidate creates the lease, runs the work, and on shutdown stops it before releasing', async () => {
    const a = candidate(api, 'a');
    await until('a leads', () => a.state.working);
    assert.equal(await a.leaderGauge(), 1);
    const lease = leaseSpec(api);
    assert.equal(lease?.['holderIdentity'], 'a');
    assert.match(String(lease?.['renewTime']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    await a.stop();
    assert.equal(a.state.aborts, 1);
    assert.equal(leaseSpec(api)?.['holderIdentity'], '', 'released');
    assert.equal(await a.leaderGauge(), 0);
  });

  it('with two candidates only one works; when the leader dies the other takes over within the lease duration', async () => {
    const a = candidate(api, 'a');
    await until('a leads', () => a.state.working);
    const b = candidate(api, 'b');
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(b.state.starts, 0, 'b waits while a renews');
    a.kill();
    const killedAt = Date.now();
    await until('b takes over', () => b.state.working, 3000);
    const takeoverMs = Date.now() - killedAt;
    assert.ok(takeoverMs <= fast.leaseDurationMs + 2 * fast.retryPeriodMs * 1.2 + 200, `took over after ${takeoverMs} ms`);
    await until('a notices it lost the lease', () => !a.state.working, 3000);
    assert.equal(await a.leaderGauge(), 0);
    await Promise.all([a.stop(), b.stop()]);
  });

  it('a freshly released lease is taken at once by a waiting candidate', async () => {
    const a = candidate(api, 'a');
    await until('a leads', () => a.state.working);
    const b = candidate(api, 'b');
    await new Promise((r) => setTimeout(r, 150));
    const releasedAt = Date.now();
    await a.stop();
    await until('b takes over', () => b.state.working, 3000);
    assert.ok(Date.now() - releasedAt < fast.leaseDurationMs, 'faster than waiting for expiry');
    await b.stop();
  });

  it('a leader that cannot renew within the renew deadline stops its work', async () => {
    const a = candidate(api, 'a');
    await until('a leads', () => a.state.working);
    api.failObjects('leases', 503);
    try {
      await until('a gives up', () => !a.state.working, 3000);
      assert.equal(await a.leaderGauge(), 0);
    } finally {
      api.failObjects('leases', undefined);
    }
    await until('a leads again once the API is back', () => a.state.working, 3000);
    assert.equal(a.state.starts, 2);
    await a.stop();
  });

  it('a lease held by someone else is not taken before it expired by our own observation', async () => {
    api.putObject('leases', {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'kes', namespace: 'monitoring' },
      // renewTime far in the past, as a holder with a skewed clock would write it
      spec: { holderIdentity: 'ghost', leaseDurationSeconds: 1, renewTime: '2000-01-01T00:00:00.000000Z', leaseTransitions: 3 },
    });
    const startedAt = Date.now();
    const a = candidate(api, 'a');
    await until('a leads', () => a.state.working, 3000);
    assert.ok(Date.now() - startedAt >= 900, 'waited for a full lease duration');
    assert.equal(leaseSpec(api)?.['leaseTransitions'], 4);
    await a.stop();
  });

  it('a standby shuts down promptly without ever running the work or touching the lease', async () => {
    const a = candidate(api, 'a');
    await until('a leads', () => a.state.working);
    const b = candidate(api, 'b');
    await new Promise((r) => setTimeout(r, 150));
    await b.stop();
    assert.equal(b.state.starts, 0);
    assert.deepEqual(b.writes, [], 'b never wrote the lease');
    assert.equal(leaseSpec(api)?.['holderIdentity'], 'a');
    await a.stop();
  });

  it('work that fails on its own releases the lease and rejects', async () => {
    const metrics = createMetrics({ version: 't' });
    const elector = createLeaderElector(
      { ...fast, identity: 'a' },
      { request: createKubeRequest(api.kubeConfig()), clock: systemClock, random: () => 0.5, logger: silent, metrics },
    );
    await assert.rejects(
      elector.runWhileLeader(() => Promise.reject(new Error('pipeline broke')), new AbortController().signal),
      /pipeline broke/,
    );
    assert.equal(leaseSpec(api)?.['holderIdentity'], '');
    assert.equal((await metrics.leader.get()).values[0]?.value, 0);
  });

  it('concurrent candidates never both hold the lease', async () => {
    const candidates = ['a', 'b', 'c'].map((id) => candidate(api, id));
    await until('someone leads', () => candidates.some((c) => c.state.working));
    for (let i = 0; i < 10; i++) {
      assert.ok(candidates.filter((c) => c.state.working).length <= 1);
      await new Promise((r) => setTimeout(r, 50));
    }
    await Promise.all(candidates.map((c) => c.stop()));
  });
});
