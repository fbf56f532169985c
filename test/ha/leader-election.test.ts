import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { pino } from 'pino';
import { systemClock } from '../../src/core/clock.js';
import { createKubeRequest, type KubeRequest } from '../../src/kube/request.js';
import { createLeaderElector, lostTheLease, microTime, MIN_REQUEST_TIMEOUT_MS, type LeaderElectionOptions } from '../../src/ha/leader-election.js';
import { createMetrics } from '../../src/observe/metrics.js';
import { FakeKubeApiServer } from '../fakes/kube-api-server.js';
import { ManualClock } from '../support/manual-clock.js';
import { metricValue } from '../support/metrics.js';
import { until } from '../support/wait.js';

const silent = pino({ level: 'silent' });
const fast: Omit<LeaderElectionOptions, 'identity'> = {
  namespace: 'monitoring',
  name: 'kes',
  leaseDurationMs: 1000,
  renewDeadlineMs: 600,
  retryPeriodMs: 100,
};

/** Resolves once `signal` aborted, also when it already had (a listener added then would never fire). */
function aborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

/**
 * Candidates not stopped yet. A case that fails half-way leaves its electors campaigning and
 * renewing on real timers, which keep this file's test process alive after its last case: the run
 * then hangs, past every test timeout. Each case's afterEach stops what is left.
 */
const unstopped = new Set<() => Promise<void>>();

async function stopUnstopped(): Promise<void> {
  const stops = [...unstopped];
  unstopped.clear();
  let timer: NodeJS.Timeout | undefined;
  const giveUp = new Promise<'stuck'>((resolve) => (timer = setTimeout(() => resolve('stuck'), 10_000)));
  const ended = await Promise.race([Promise.all(stops.map((stop) => stop())).then(() => 'stopped' as const), giveUp]);
  clearTimeout(timer);
  if (ended === 'stuck') assert.fail('a candidate left running by its case did not stop within 10 s');
}

/** The Lease's spec as the API server holds it now. */
function leaseSpec(api: FakeKubeApiServer): Record<string, unknown> | undefined {
  return api.getObject('leases', 'monitoring', 'kes')?.['spec'] as Record<string, unknown> | undefined;
}

/** A candidate whose API access can be cut, like a process that was killed; it notes the writes it sends. */
function candidate(api: FakeKubeApiServer, identity: string, drainMs = 0) {
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
  const state = { working: false, starts: 0, aborts: 0, lostWhileDraining: false, holderWhenDrained: undefined as unknown };
  const done = elector.runWhileLeader(async (signal, term) => {
    state.working = true;
    state.starts += 1;
    await aborted(signal);
    state.aborts += 1;
    // A slow drain (flush, final checkpoint) after the stop signal.
    if (drainMs > 0) {
      const wasLost = term.lost.aborted;
      await new Promise((r) => setTimeout(r, drainMs));
      state.lostWhileDraining = !wasLost && lostTheLease(term.lost);
      state.holderWhenDrained = leaseSpec(api)?.['holderIdentity'];
    }
    state.working = false;
  }, shutdown.signal);
  const stop = async (): Promise<void> => {
    unstopped.delete(stop);
    shutdown.abort();
    await done;
  };
  unstopped.add(stop);
  return {
    state,
    writes,
    metrics,
    done,
    kill: () => {
      dead = true;
    },
    stop,
    leaderGauge: () => metricValue(metrics, 'kube_event_shipper_leader'),
  };
}

describe('leader election', () => {
  // A fresh API server per case: no Lease left over from the case before.
  let api: FakeKubeApiServer;
  beforeEach(async () => {
    api = await FakeKubeApiServer.start();
  });
  afterEach(async () => {
    try {
      await stopUnstopped();
    } finally {
      await api.close();
    }
  });

  it('MicroTime has exactly six fractional digits', () => {
    assert.equal(microTime(Date.UTC(2026, 10, 26, 21, 0, 0, 123)), '2026-11-26T21:00:00.123000Z');
  });

  it('a lone candidate creates the lease, runs the work, and on shutdown stops it before releasing', async () => {
    const a = candidate(api, 'a');
    await until(() => a.state.working, 'a leads');
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
    await until(() => a.state.working, 'a leads');
    const b = candidate(api, 'b');
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(b.state.starts, 0, 'b waits while a renews');
    a.kill();
    const killedAt = Date.now();
    await until(() => b.state.working, 'b takes over', 3000);
    const takeoverMs = Date.now() - killedAt;
    assert.ok(takeoverMs <= fast.leaseDurationMs + 2 * fast.retryPeriodMs * 1.2 + 200, `took over after ${takeoverMs} ms`);
    await until(() => !a.state.working, 'a notices it lost the lease', 3000);
    assert.equal(await a.leaderGauge(), 0);
    await Promise.all([a.stop(), b.stop()]);
  });

  it('a leader that shuts down keeps renewing its lease while the work drains, and releases it only after the work ended', async () => {
    const drainMs = 2.5 * fast.leaseDurationMs;
    const a = candidate(api, 'a', drainMs);
    await until(() => a.state.working, 'a leads');
    const b = candidate(api, 'b');
    const stopped = a.stop();
    const renewals = new Set<unknown>();
    const drainEnds = Date.now() + drainMs - 200;
    while (Date.now() < drainEnds) {
      renewals.add(leaseSpec(api)?.['renewTime']);
      assert.equal(leaseSpec(api)?.['holderIdentity'], 'a', 'still held while draining');
      assert.equal(b.state.starts, 0, 'no standby takes over during the drain');
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(renewals.size >= 2, `renewed while draining (${renewals.size} distinct renewTimes)`);
    await stopped;
    assert.equal(a.state.holderWhenDrained, 'a', 'the work ended before the release');
    assert.equal(a.state.lostWhileDraining, false);
    await until(() => b.state.working, 'b takes over once released', 3000);
    await b.stop();
  });

  it('a lease lost while the work drains after a shutdown is told to the work and never released', async () => {
    const a = candidate(api, 'a', 2000);
    await until(() => a.state.working, 'a leads');
    const stopped = a.stop();
    await new Promise((r) => setTimeout(r, 100));
    api.failObjects('leases', 503);
    await new Promise((r) => setTimeout(r, fast.renewDeadlineMs + 300));
    api.failObjects('leases', undefined);
    const writesBefore = a.writes.length;
    await stopped;
    assert.equal(a.state.lostWhileDraining, true, 'term.lost aborted during the drain');
    assert.equal(a.writes.length, writesBefore, 'no renewal and no release after the loss');
    assert.equal(leaseSpec(api)?.['holderIdentity'], 'a', 'not released: someone else may hold it by now');
    assert.equal(await a.leaderGauge(), 0);
  });

  it('a release answered 409 (the Lease moved on since it was last read, e.g. by a renewal cut short) reads it again and still releases', async () => {
    const real = createKubeRequest(api.kubeConfig());
    let bumped = 0;
    const request: KubeRequest = async (method, path, options) => {
      const spec = (options?.body as { spec?: { holderIdentity?: string } } | undefined)?.spec;
      if (method === 'PUT' && spec?.holderIdentity === '' && bumped === 0) {
        bumped += 1;
        api.putObject('leases', api.getObject('leases', 'monitoring', 'kes')!); // same content, new resourceVersion
      }
      return real(method, path, options);
    };
    const elector = createLeaderElector({ ...fast, identity: 'a' }, { request, clock: systemClock, random: () => 0.5, logger: silent, metrics: createMetrics({ version: 't' }) });
    const shutdown = new AbortController();
    let working = false;
    const done = elector.runWhileLeader(async (signal) => {
      working = true;
      await aborted(signal);
    }, shutdown.signal);
    const stop = async (): Promise<void> => {
      unstopped.delete(stop);
      shutdown.abort();
      await done;
    };
    unstopped.add(stop);
    await until(() => working, 'a leads');
    shutdown.abort();
    await done;
    assert.equal(bumped, 1, 'the first release met a newer Lease');
    assert.equal(leaseSpec(api)?.['holderIdentity'], '', 'released all the same');
  });

  it('a freshly released lease is taken at once by a waiting candidate', async () => {
    const a = candidate(api, 'a');
    await until(() => a.state.working, 'a leads');
    const b = candidate(api, 'b');
    await new Promise((r) => setTimeout(r, 150));
    const releasedAt = Date.now();
    await a.stop();
    await until(() => b.state.working, 'b takes over', 3000);
    assert.ok(Date.now() - releasedAt < fast.leaseDurationMs, 'faster than waiting for expiry');
    await b.stop();
  });

  it('a leader that cannot renew within the renew deadline stops its work', async () => {
    const a = candidate(api, 'a');
    await until(() => a.state.working, 'a leads');
    api.failObjects('leases', 503);
    try {
      await until(() => !a.state.working, 'a gives up', 3000);
      assert.equal(await a.leaderGauge(), 0);
    } finally {
      api.failObjects('leases', undefined);
    }
    await until(() => a.state.working, 'a leads again once the API is back', 3000);
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
    await until(() => a.state.working, 'a leads', 3000);
    assert.ok(Date.now() - startedAt >= 900, 'waited for a full lease duration');
    assert.equal(leaseSpec(api)?.['leaseTransitions'], 4);
    await a.stop();
  });

  it('a standby shuts down promptly without ever running the work or touching the lease', async () => {
    const a = candidate(api, 'a');
    await until(() => a.state.working, 'a leads');
    const b = candidate(api, 'b');
    await new Promise((r) => setTimeout(r, 150));
    await b.stop();
    assert.equal(b.state.starts, 0);
    assert.deepEqual(b.writes, [], 'b never wrote the lease');
    assert.equal(leaseSpec(api)?.['holderIdentity'], 'a');
    await a.stop();
  });

  it('a shutdown that arrives while the lease is being acquired never starts the work and releases the lease', async () => {
    const metrics = createMetrics({ version: 't' });
    const real = createKubeRequest(api.kubeConfig());
    const shutdown = new AbortController();
    // SIGTERM lands after the API server created the Lease for us, before the answer is handled.
    const request: KubeRequest = async (method, path, options) => {
      const res = await real(method, path, options);
      if (method === 'POST') shutdown.abort();
      return res;
    };
    const elector = createLeaderElector({ ...fast, identity: 'a' }, { request, clock: systemClock, random: () => 0.5, logger: silent, metrics });
    let starts = 0;
    const done = elector.runWhileLeader(async (signal) => {
      starts += 1;
      await aborted(signal);
    }, shutdown.signal);
    let timer: NodeJS.Timeout | undefined;
    const ended = await Promise.race([done.then(() => 'ended' as const), new Promise<'hung'>((r) => (timer = setTimeout(() => r('hung'), 5_000)))]);
    clearTimeout(timer);
    assert.equal(ended, 'ended', 'runWhileLeader returns after the shutdown');
    assert.equal(starts, 0, 'the work never started');
    assert.equal(leaseSpec(api)?.['holderIdentity'], '', 'the lease it had just taken is released');
    assert.equal(await metricValue(metrics, 'kube_event_shipper_leader'), 0);
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
    assert.equal(await metricValue(metrics, 'kube_event_shipper_leader'), 0);
  });

  it('concurrent candidates never both hold the lease', async () => {
    const candidates = ['a', 'b', 'c'].map((id) => candidate(api, id));
    await until(() => candidates.some((c) => c.state.working), 'someone leads');
    for (let i = 0; i < 10; i++) {
      assert.ok(candidates.filter((c) => c.state.working).length <= 1);
      await new Promise((r) => setTimeout(r, 50));
    }
    await Promise.all(candidates.map((c) => c.stop()));
  });
});

const STEP_MS = 10;

/**
 * Moves the manual clock in small steps, giving real I/O a moment between them, until `cond`.
 * However slow the requests are against this clock, the elector must stay safe: that is the point.
 */
async function driveUntil(clock: ManualClock, what: string, cond: () => boolean, maxFakeMs = 20_000): Promise<void> {
  for (let spent = 0; !cond(); spent += STEP_MS) {
    if (spent > maxFakeMs) assert.fail(`timed out (fake time) waiting for: ${what}`);
    clock.advance(STEP_MS);
    await new Promise((r) => setTimeout(r, 1));
  }
}

/**
 * Like `driveUntil`, but time stands still while any request in `sent` is unanswered: requests take no time
 * by this clock. Only for cases without a hanging request.
 */
async function driveQuietly(clock: ManualClock, what: string, sent: readonly (readonly { settled: boolean }[])[], cond: () => boolean, maxFakeMs = 20_000): Promise<void> {
  for (let spent = 0; ; spent += STEP_MS) {
    const realDeadline = Date.now() + 5000;
    while (!sent.every((requests) => requests.every((r) => r.settled))) {
      if (Date.now() > realDeadline) assert.fail(`a request did not settle while waiting for: ${what}`);
      await new Promise((r) => setTimeout(r, 1));
    }
    if (cond()) return;
    if (spent > maxFakeMs) assert.fail(`timed out (fake time) waiting for: ${what}`);
    clock.advance(STEP_MS);
    await new Promise((r) => setTimeout(r, 1));
  }
}

/** The reviewer's settings: a renew deadline just short of the lease duration. */
const tight: Omit<LeaderElectionOptions, 'identity'> = {
  namespace: 'monitoring',
  name: 'kes',
  leaseDurationMs: 3000,
  renewDeadlineMs: 2800,
  retryPeriodMs: 500,
};

interface SentRequest {
  readonly method: string;
  readonly at: number;
  readonly timeoutMs: number | undefined;
  settled: boolean;
}

/** A candidate on the manual clock that notes every Lease request it sends and when its work starts and stops. */
function clockedCandidate(api: FakeKubeApiServer, identity: string, clock: ManualClock, how: {
    cutOffWhenLost?: boolean;
    beforeRequest?: (method: string) => void;
    options?: Omit<LeaderElectionOptions, 'identity'>;
    random?: () => number;
    /**
     * Send requests without their timeouts (still noted in `sent`): for driveQuietly, where
     * requests take no time by the manual clock. A timeout is real time, but its length is taken
     * from the manual clock: what was left of a renew deadline (50 ms in the no-jitter case) must
     * not cut a request that a busy machine answers in 60 ms of real time.
     */
    requestsTakeNoTime?: boolean;
  } = {},
) {
  const real = createKubeRequest(api.kubeConfig());
  const sent: SentRequest[] = [];
  let cutOff = false;
  const request: KubeRequest = (method, path, options) => {
    if (cutOff) return Promise.reject(new Error('cut off from the API server'));
    how.beforeRequest?.(method);
    const entry: SentRequest = { method, at: clock.now(), timeoutMs: options?.timeoutMs, settled: false };
    sent.push(entry);
    const { timeoutMs: _timeoutMs, ...untimed } = options ?? {};
    const p = real(method, path, how.requestsTakeNoTime === true ? untimed : options);
    const settle = (): void => {
      entry.settled = true;
    };
    p.then(settle, settle);
    return p;
  };
  const metrics = createMetrics({ version: 't' });
  const elector = createLeaderElector({ ...(how.options ?? tight), identity }, { request, clock, random: how.random ?? (() => 0), logger: silent, metrics });
  const shutdown = new AbortController();
  const state = {
    working: false,
    startedAt: [] as number[],
    abortedAt: [] as number[],
    /** The Lease's renewTime as stored when the work started. */
    renewTimeAtStart: [] as number[],
    lostTheLease: [] as boolean[],
    /** Requests still unanswered when the work was aborted. */
    hangingAtAbort: [] as SentRequest[][],
  };
  const done = elector.runWhileLeader(async (signal) => {
    state.working = true;
    state.startedAt.push(clock.now());
    state.renewTimeAtStart.push(storedRenewMs(api));
    await aborted(signal);
    state.abortedAt.push(clock.now());
    state.lostTheLease.push(lostTheLease(signal));
    // A pod cut off from the API server stays so, or it would simply renew its own lease again.
    if (how.cutOffWhenLost === true && lostTheLease(signal)) cutOff = true;
    state.hangingAtAbort.push(sent.filter((r) => !r.settled));
    state.working = false;
  }, shutdown.signal);
  const stop = async (): Promise<void> => {
    unstopped.delete(stop);
    shutdown.abort();
    // Release and stop without waiting on the manual clock.
    for (let i = 0; i < 200 && !(await Promise.race([done.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 5))])); i++) clock.advance(STEP_MS);
    await done;
  };
  unstopped.add(stop);
  /** Cuts it off from the API server for good, like a killed pod (no release). */
  const kill = (): void => {
    cutOff = true;
  };
  return { state, sent, stop, kill };
}

/** The renewTime the API server holds, in ms: when the holder began its last successful renewal. */
function storedRenewMs(api: FakeKubeApiServer): number {
  return Date.parse(String(leaseSpec(api)?.['renewTime']));
}

describe('leader election: the renew deadline, on a manual clock', () => {
  let api: FakeKubeApiServer;
  beforeEach(async () => {
    api = await FakeKubeApiServer.start();
  });
  afterEach(async () => {
    try {
      await stopUnstopped();
    } finally {
      await api.close();
    }
  });

  it('a renewal that hangs stops the work at the renew deadline, before anyone else could take the lease', async () => {
    const clock = new ManualClock({ startMs: Date.UTC(2026, 10, 26, 22, 0, 0) });
    const a = clockedCandidate(api, 'a', clock);
    await driveUntil(clock, 'a leads', () => a.state.working);
    const puts = (): number => a.sent.filter((r) => r.method === 'PUT').length;
    const before = puts();
    await driveUntil(clock, 'a renews twice', () => puts() >= before + 2);
    await driveUntil(clock, 'the renewal settles', () => a.sent.every((r) => r.settled));
    const renewedAt = storedRenewMs(api);
    api.injectFault('leases', { kind: 'hang' }, 1, 'PUT');

    await driveUntil(clock, 'a stops', () => !a.state.working);
    assert.deepEqual(a.state.lostTheLease, [true], 'the work learns it lost the lease');
    assert.equal(storedRenewMs(api), renewedAt, 'the hung renewal never reached the store');
    const abortedAt = a.state.abortedAt[0] ?? Number.NaN;
    assert.ok(abortedAt >= renewedAt + tight.renewDeadlineMs, `not before the deadline (${abortedAt - renewedAt} ms)`);
    assert.ok(abortedAt <= renewedAt + tight.renewDeadlineMs + STEP_MS, `at the deadline, not after (${abortedAt - renewedAt} ms)`);
    assert.ok(abortedAt < renewedAt + tight.leaseDurationMs, 'strictly before the lease can expire for others');
    const hung = a.state.hangingAtAbort[0] ?? [];
    assert.equal(hung.length, 1, 'the hanging renewal was still open: the timer stopped the work, not a request timeout');
    assert.equal(hung[0]?.method, 'PUT');
    assert.equal(hung[0]?.timeoutMs, renewedAt + tight.renewDeadlineMs - (hung[0]?.at ?? 0), 'its timeout is what was left of the deadline');
    await a.stop();
  });

  it('every lease request while leading gets only what is left of the renew deadline', async () => {
    const clock = new ManualClock({ startMs: Date.UTC(2026, 10, 26, 22, 0, 0) });
    const a = clockedCandidate(api, 'a', clock);
    await driveUntil(clock, 'a leads', () => a.state.working);
    await driveUntil(clock, 'the acquisition settles', () => a.sent.every((r) => r.settled));
    const renewedAt = storedRenewMs(api);
    const from = a.sent.length;
    api.failObjects('leases', 503);
    await driveUntil(clock, 'a stops', () => !a.state.working);
    api.failObjects('leases', undefined);
    const whileLeading = a.sent.slice(from).filter((r) => r.at < (a.state.abortedAt[0] ?? 0));
    assert.ok(whileLeading.length >= 3, `${whileLeading.length} attempts`);
    // The deadline counts from the start of the last renewal that succeeded (its renewTime); a
    // request sent just before it still gets the floor (the timer stops the work on time anyway).
    for (const r of whileLeading) {
      const left = renewedAt + tight.renewDeadlineMs - r.at;
      assert.equal(r.timeoutMs, Math.max(MIN_REQUEST_TIMEOUT_MS, left), `sent ${r.at - renewedAt} ms after the renewal`);
    }
    await a.stop();
  });

  it('an acquisition that took the whole renew deadline is renewed before the work starts', async () => {
    const clock = new ManualClock({ startMs: Date.UTC(2026, 10, 26, 22, 0, 0) });
    let slowed = false;
    const a = clockedCandidate(api, 'a', clock, {
      // The creating request takes (by this clock) a whole renew deadline to come back.
      beforeRequest: (method) => {
        if (method !== 'POST' || slowed) return;
        slowed = true;
        setImmediate(() => clock.advance(tight.renewDeadlineMs));
      },
    });
    await driveUntil(clock, 'a leads', () => a.state.working);
    assert.equal(slowed, true);
    const startedAt = a.state.startedAt[0] ?? Number.NaN;
    const renewedAt = a.state.renewTimeAtStart[0] ?? Number.NaN;
    assert.ok(startedAt - renewedAt < tight.renewDeadlineMs, `the work starts ${startedAt - renewedAt} ms after the renewTime it holds`);
    assert.ok(a.sent.some((r) => r.method === 'PUT' && r.at < startedAt), 'renewed before leading');
    await a.stop();
  });

  it('a leader renews every retry period without jitter, so a renew deadline just above it is kept', async () => {
    const clock = new ManualClock({ startMs: Date.UTC(2026, 10, 26, 22, 0, 0) });
    const options = { ...tight, leaseDurationMs: 1000, renewDeadlineMs: 550, retryPeriodMs: 500 };
    const a = clockedCandidate(api, 'a', clock, { options, random: () => 0.999, requestsTakeNoTime: true });
    await driveQuietly(clock, 'a leads', [a.sent], () => a.state.working);
    const startedAt = clock.now();
    await driveQuietly(clock, 'five renew periods', [a.sent], () => clock.now() - startedAt >= 5 * options.retryPeriodMs);
    assert.ok(a.sent.filter((r) => r.method === 'PUT').length >= 5, 'renewed all along');
    assert.deepEqual(a.state.abortedAt, [], 'still leading');
    await a.stop();
  });

  it('a standby takes over a dead leader\'s lease once it expired, within a retry period of its own polling after', async () => {
    const clock = new ManualClock({ startMs: Date.UTC(2026, 10, 26, 22, 0, 0) });
    const a = clockedCandidate(api, 'a', clock, { requestsTakeNoTime: true });
    const b = clockedCandidate(api, 'b', clock, { requestsTakeNoTime: true });
    const both = [a.sent, b.sent];
    await driveQuietly(clock, 'a or b leads', both, () => a.state.working || b.state.working);
    const [leader, standby] = a.state.working ? [a, b] : [b, a];
    await driveQuietly(clock, 'the standby has looked at the lease twice', both, () => standby.sent.length >= 2);
    leader.kill();
    const renewedAt = storedRenewMs(api);
    await driveQuietly(clock, 'the standby takes over', both, () => standby.state.working);
    const tookOverAt = standby.state.startedAt[0] ?? Number.NaN;
    assert.ok(tookOverAt >= renewedAt + tight.leaseDurationMs, `not before the lease expired (${tookOverAt - renewedAt} ms after the last renewal)`);
    // It sees the last renewal within one poll, and the lease expired by that sighting within another.
    assert.ok(tookOverAt <= renewedAt + tight.leaseDurationMs + 2 * tight.retryPeriodMs, `took over ${tookOverAt - renewedAt} ms after the last renewal`);
    await Promise.all([a.stop(), b.stop()]);
  });

  it('a leader whose renewals fail and then hang has stopped before the standby takes over', async () => {
    const clock = new ManualClock({ startMs: Date.UTC(2026, 10, 26, 22, 0, 0) });
    const a = clockedCandidate(api, 'a', clock, { cutOffWhenLost: true });
    await driveUntil(clock, 'a leads', () => a.state.working);
    const b = clockedCandidate(api, 'b', clock);
    await driveUntil(clock, 'b has looked at the lease twice', () => b.sent.length >= 2);
    // Only the leader writes while the lease is fresh, so these reach a: failures, then a hang.
    api.injectFault('leases', { kind: 'status', code: 503 }, 2, 'PUT');
    api.injectFault('leases', { kind: 'hang' }, 1, 'PUT');
    let overlap = false;
    await driveUntil(clock, 'b takes over', () => {
      if (a.state.working && b.state.working) overlap = true;
      return b.state.working;
    });
    assert.equal(overlap, false, 'never two leaders at once');
    assert.deepEqual(a.state.lostTheLease, [true]);
    const aStopped = a.state.abortedAt[0] ?? Number.NaN;
    const bStarted = b.state.startedAt[0] ?? Number.NaN;
    assert.ok(aStopped < bStarted, `a stopped at +${aStopped - bStarted} ms from b's start`);
    assert.equal(api.pendingFaults, 0, 'all the injected faults met the leader');
    await Promise.all([a.stop(), b.stop()]);
  });
});
