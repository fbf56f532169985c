/**
 * Leader election on a `coordination.k8s.io/v1` Lease, the way client-go does it: a candidate
 * takes the Lease when it is free or expired, the leader renews it every retry period, and writes
 * carry the resourceVersion read just before, so two candidates can never both win (409). Expiry is
 * judged by when *we* last saw the record change, not by the holder's clock. Losing the Lease (no
 * renewal within the renew deadline) aborts the work and tells it through `LeaderTerm.lost`;
 * shutdown aborts it, keeps renewing while it finishes (flush, final checkpoint) and only then
 * releases the Lease, so no standby takes over during a long drain and the next leader resumes
 * from a current checkpoint. A Lease lost during that drain fences the final checkpoint too.
 *
 * The renew deadline is counted from the start of the last successful renewal (the renewTime it
 * wrote), and a timer aborts the work the moment it passes, even while a renew request hangs. Any
 * other candidate saw that record no earlier than it was written, and waits a whole lease duration
 * from then, so with lease duration > renew deadline the old leader has stopped before anyone else
 * can take the Lease.
 */
import type { Logger } from 'pino';
import type { Clock, Random } from '../core/clock.js';
import type { Metrics } from '../observe/metrics.js';
import type { KubeRequest } from '../kube/request.js';
import { isLease, leaseSpecFor, microTime, recordKey, type Lease, type LeaseSpec } from './lease-object.js';
import { LeaseLostError, type LeaderWork } from './leader-term.js';

// The term's contract and the Lease's MicroTime, re-exported: callers import them from here.
export { microTime } from './lease-object.js';
export { LeaseLostError, lostTheLease, UNCONTESTED_TERM, type LeaderTerm, type LeaderWork } from './leader-term.js';

export interface LeaderElectionOptions {
  readonly namespace: string;
  readonly name: string;
  readonly identity: string;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
}

export interface LeaderElectionDeps {
  readonly request: KubeRequest;
  readonly clock: Clock;
  readonly random: Random;
  readonly logger: Logger;
  readonly metrics: Pick<Metrics, 'leader'>;
  /** Told when this instance starts or stops leading (the health tracker's `setActive`). */
  readonly onLeading?: (leading: boolean) => void;
}

export interface LeaderElector {
  /**
   * Campaigns until `signal` aborts: runs `work` while holding the Lease, aborts it on losing the
   * Lease and campaigns again. On shutdown, waits for the work and releases the Lease. Rejects if the
   * work fails on its own (after releasing the Lease).
   */
  runWhileLeader(work: LeaderWork, signal: AbortSignal): Promise<void>;
}

type Attempt = 'acquired' | 'held-by-other' | 'failed';

interface AttemptResult {
  readonly result: Attempt;
  /** When the attempt began: the renewTime it wrote, so the earliest anyone can have seen it. */
  readonly startedAt: number;
}

/** No request is sent with less time than this; the deadline timer still stops the work on time. */
export const MIN_REQUEST_TIMEOUT_MS = 10;
/** Nor with more: a hung request must not hold up the next attempt longer than this. */
const MAX_REQUEST_TIMEOUT_MS = 10_000;

export function createLeaderElector(options: LeaderElectionOptions, deps: LeaderElectionDeps): LeaderElector {
  const { clock, random, logger, request } = deps;
  const path = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(options.namespace)}/leases`;
  const leasePath = `${path}/${encodeURIComponent(options.name)}`;
  const releaseTimeoutMs = Math.max(MIN_REQUEST_TIMEOUT_MS, Math.min(options.renewDeadlineMs, MAX_REQUEST_TIMEOUT_MS));
  const log = logger.child({ lease: `${options.namespace}/${options.name}`, identity: options.identity });

  /** What we last saw of the Lease and when, by our clock. */
  let observed: { key: string; at: number; lease: Lease } | undefined;
  let leading = false;

  const setLeading = (value: boolean): void => {
    if (leading === value) return;
    leading = value;
    deps.metrics.leader.set(value ? 1 : 0);
    deps.onLeading?.(value);
    log.info({ leading: value }, value ? 'became leader' : 'stopped leading');
  };

  const observe = (lease: Lease): void => {
    const key = recordKey(lease);
    if (observed?.key !== key) observed = { key, at: clock.now(), lease };
    else observed = { ...observed, lease };
  };

  const desiredSpec = (previous: LeaseSpec | undefined, now: number): LeaseSpec => leaseSpecFor(options.identity, options.leaseDurationMs, previous, now);

  /** Every request of an attempt gets only the time left until `deadline`. */
  async function tryAcquireOrRenew(signal: AbortSignal, now: number, deadline: number): Promise<Attempt> {
    const timeoutMs = (): number => Math.max(MIN_REQUEST_TIMEOUT_MS, Math.min(MAX_REQUEST_TIMEOUT_MS, deadline - clock.now()));
    const got = await request('GET', leasePath, { signal, timeoutMs: timeoutMs() });
    if (got.status === 404) {
      const created = await request('POST', path, {
        signal,
        timeoutMs: timeoutMs(),
        body: {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name: options.name, namespace: options.namespace },
          spec: { ...desiredSpec(undefined, now), leaseTransitions: 0 },
        },
      });
      if (created.status === 201 || created.status === 200) {
        if (isLease(created.body)) observe(created.body);
        return 'acquired';
      }
      if (created.status !== 409) log.warn({ status: created.status }, 'lease create failed');
      return 'failed';
    }
    if (got.status !== 200 || !isLease(got.body)) {
      log.warn({ status: got.status }, 'lease read failed');
      return 'failed';
    }
    const current = got.body;
    observe(current);
    const spec = current.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const durationMs = (spec.leaseDurationSeconds ?? Math.ceil(options.leaseDurationMs / 1000)) * 1000;
    const expired = observed === undefined || observed.at + durationMs <= clock.now();
    if (holder !== '' && holder !== options.identity && !expired) return 'held-by-other';

    const updated = await request('PUT', leasePath, {
      signal,
      timeoutMs: timeoutMs(),
      body: { ...current, spec: { ...spec, ...desiredSpec(spec, now) } },
    });
    if (updated.status === 200 && isLease(updated.body)) {
      observe(updated.body);
      return 'acquired';
    }
    if (updated.status !== 409) log.warn({ status: updated.status }, 'lease update failed');
    return 'failed';
  }

  /**
   * One acquire-or-renew. Its requests give up by `deadline` (while leading: the renew deadline;
   * campaigning: a renew deadline from now, since a later success could not be used anyway).
   */
  async function attempt(signal: AbortSignal, deadline?: number): Promise<AttemptResult> {
    const startedAt = clock.now();
    try {
      return { result: await tryAcquireOrRenew(signal, startedAt, deadline ?? startedAt + options.renewDeadlineMs), startedAt };
    } catch (err) {
      if (!signal.aborted) log.warn({ err }, 'lease request failed');
      return { result: 'failed', startedAt };
    }
  }

  /** Campaigning is jittered like client-go's wait.JitterUntil, so candidates do not hit the API server in step. */
  const retryDelay = (): number => options.retryPeriodMs * (1 + 0.2 * random());

  async function release(): Promise<void> {
    let lease = observed?.lease;
    try {
      // Twice at most: a renewal cut short when the work ended may still have reached the server,
      // so the Lease we know can be one version behind (409); read it and try once more.
      for (let round = 0; round < 2; round++) {
        if (!lease || lease.spec?.holderIdentity !== options.identity) return;
        const now = clock.now();
        const res = await request('PUT', leasePath, {
          timeoutMs: releaseTimeoutMs,
          body: { ...lease, spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: microTime(now) } },
        });
        if (res.status === 200) {
          log.info({}, 'lease released');
          return;
        }
        if (res.status !== 409 || round > 0) {
          log.warn({ status: res.status }, 'lease release failed');
          return;
        }
        const current = await request('GET', leasePath, { timeoutMs: releaseTimeoutMs });
        lease = current.status === 200 && isLease(current.body) ? current.body : undefined;
      }
    } catch (err) {
      log.warn({ err }, 'lease release failed');
    }
  }

  /** Sleeps unless aborted; resolves false when aborted. */
  const pause = async (ms: number, signal: AbortSignal): Promise<boolean> => {
    try {
      await clock.sleep(ms, signal);
      return true;
    } catch {
      return false;
    }
  };

  /**
   * Runs `work` for one term that began with a renewal started at `acquiredAt`. Ends it when the
   * renew deadline passes (a timer, so a hung request cannot delay it), when someone else holds the
   * Lease, on shutdown, or when the work ends on its own.
   */
  async function lead(work: LeaderWork, shutdown: AbortSignal, acquiredAt: number): Promise<'shutdown' | 'lost'> {
    const workAbort = new AbortController();
    // Aborted only by losing the Lease: renewals go on after a shutdown began, until the work ended.
    const termLost = new AbortController();
    const stopWork = (): void => workAbort.abort(shutdown.reason ?? new Error('shutdown'));
    shutdown.addEventListener('abort', stopWork, { once: true });
    let lastRenew = acquiredAt;
    const lose = (result: Attempt | 'renew-deadline'): void => {
      if (termLost.signal.aborted) return;
      log.warn({ result, sinceRenewMs: clock.now() - lastRenew, draining: workAbort.signal.aborted }, 'lost the lease');
      const reason = new LeaseLostError('lost the lease');
      termLost.abort(reason);
      workAbort.abort(reason);
    };
    setLeading(true);
    let workError: unknown;
    let workEnded = false;
    /** The work ended before anything asked it to (done or failed on its own). */
    let workEndedOnItsOwn = false;
    const ended = (): void => {
      workEnded = true;
      workEndedOnItsOwn = !workAbort.signal.aborted;
    };
    const running = work(workAbort.signal, { lost: termLost.signal }).then(ended, (err: unknown) => {
      ended();
      workError = err ?? new Error('work failed');
    });

    // Wakes at the deadline; a renewal meanwhile moved it, so it sleeps again for what is left.
    const watchdogStop = new AbortController();
    const watchdogSignal = AbortSignal.any([termLost.signal, watchdogStop.signal]);
    const watchdog = (async () => {
      for (;;) {
        const left = lastRenew + options.renewDeadlineMs - clock.now();
        if (left <= 0) return lose('renew-deadline');
        if (!(await pause(left, watchdogSignal))) return;
      }
    })();

    // Renews while the work runs, draining after a shutdown included: a standby must not take the
    // Lease (and write its checkpoint) before this term's final checkpoint is written. A renewal
    // still under way when the work ends is cut, so it cannot hold up the release.
    const workOver = new AbortController();
    void running.then(() => workOver.abort());
    const renewing = AbortSignal.any([termLost.signal, workOver.signal]);
    while (!termLost.signal.aborted && !workEnded) {
      // No jitter while leading (as in client-go): a jittered period could outlast a tight renew deadline.
      // The work's end aborts `renewing`, which ends the pause: no race with a promise that lives
      // as long as the term (each race would leave a reaction on it, every retry period, for days).
      const slept = await pause(options.retryPeriodMs, renewing);
      if (!slept || workEnded || termLost.signal.aborted) break;
      const { result, startedAt } = await attempt(renewing, lastRenew + options.renewDeadlineMs);
      if (result === 'acquired') lastRenew = Math.max(lastRenew, startedAt);
      else if (result === 'held-by-other') lose(result);
    }
    shutdown.removeEventListener('abort', stopWork);
    if (shutdown.aborted) stopWork();
    await running;
    watchdogStop.abort();
    await watchdog;
    const lost = termLost.signal.aborted && !workEndedOnItsOwn;
    setLeading(false);
    if (lost) {
      // Someone else may hold it by now; never release a Lease we no longer own.
      observed = undefined;
      return 'lost';
    }
    await release();
    if (workError !== undefined) throw workError as Error;
    return 'shutdown';
  }

  return {
    async runWhileLeader(work, signal) {
      deps.metrics.leader.set(0);
      log.info({}, 'campaigning for the lease');
      while (!signal.aborted) {
        const { result, startedAt } = await attempt(signal);
        // An acquisition that took the whole renew deadline is already due for renewal: renew first.
        if (result === 'acquired') {
          // A shutdown that came while the Lease was being taken: hand it straight back, no term
          // (lead() would miss it, since an abort listener added afterwards never fires).
          if (signal.aborted) {
            await release();
            return;
          }
          if (clock.now() - startedAt < options.renewDeadlineMs) {
            const ended = await lead(work, signal, startedAt);
            if (ended === 'shutdown') return;
            continue;
          }
          log.warn({ tookMs: clock.now() - startedAt }, 'lease acquired too late to lead; renewing first');
        }
        if (!(await pause(retryDelay(), signal))) break;
      }
    },
  };
}
