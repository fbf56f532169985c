/**
 * Leader election on a `coordination.k8s.io/v1` Lease, the way client-go does it: a candidate
 * takes the Lease when it is free or expired, the leader renews it every retry period, and writes
 * carry the resourceVersion read just before, so two candidates can never both win (409). Expiry is
 * judged by when *we* last saw the record change, not by the holder's clock. Losing the Lease (no
 * renewal within the renew deadline) aborts the work; shutdown aborts it, waits for it to finish
 * (flush, checkpoint) and only then releases the Lease, so the next leader resumes from a current
 * checkpoint.
 */
import type { Logger } from 'pino';
import type { Clock, Random } from '../core/clock.js';
import { ShipperError } from '../core/errors.js';
import type { Metrics } from '../observe/metrics.js';
import type { KubeRequest } from '../kube/request.js';

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

/** The abort reason the work sees when its term ended because the Lease was lost (not a shutdown). */
export class LeaseLostError extends ShipperError {
  readonly code = 'E_LEASE_LOST';
}

/** True once `signal` (a work signal) was aborted because this term lost the Lease. */
export function lostTheLease(signal: AbortSignal): boolean {
  const reason: unknown = signal.reason;
  return signal.aborted && reason instanceof ShipperError && reason.code === 'E_LEASE_LOST';
}

/**
 * The work to run while leading; it must stop promptly when `signal` aborts. The abort reason is a
 * `LeaseLostError` when the Lease was lost (see `lostTheLease`), the shutdown's reason otherwise.
 */
export type LeaderWork = (signal: AbortSignal) => Promise<void>;

export interface LeaderElector {
  /**
   * Campaigns until `signal` aborts: runs `work` while holding the Lease, aborts it on losing the
   * Lease and campaigns again. On shutdown, waits for the work and releases the Lease. Rejects if the
   * work fails on its own (after releasing the Lease).
   */
  runWhileLeader(work: LeaderWork, signal: AbortSignal): Promise<void>;
}

interface LeaseSpec {
  holderIdentity?: string | null;
  leaseDurationSeconds?: number | null;
  acquireTime?: string | null;
  renewTime?: string | null;
  leaseTransitions?: number | null;
}

interface Lease {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; resourceVersion?: string; [k: string]: unknown };
  spec?: LeaseSpec;
}

/** Kubernetes MicroTime: RFC 3339 with exactly six fractional digits. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

function isLease(value: unknown): value is Lease {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'Lease';
}

type Attempt = 'acquired' | 'held-by-other' | 'failed';

export function createLeaderElector(options: LeaderElectionOptions, deps: LeaderElectionDeps): LeaderElector {
  const { clock, random, logger, request } = deps;
  const path = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(options.namespace)}/leases`;
  const leasePath = `${path}/${encodeURIComponent(options.name)}`;
  const requestTimeoutMs = Math.max(1, Math.min(options.renewDeadlineMs, 10_000));
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
    const spec = lease.spec ?? {};
    const key = JSON.stringify([spec.holderIdentity ?? '', spec.renewTime ?? '', spec.leaseTransitions ?? 0, spec.acquireTime ?? '']);
    if (observed?.key !== key) observed = { key, at: clock.now(), lease };
    else observed = { ...observed, lease };
  };

  const desiredSpec = (previous: LeaseSpec | undefined, now: number): LeaseSpec => {
    const holdsAlready = previous?.holderIdentity === options.identity;
    return {
      holderIdentity: options.identity,
      leaseDurationSeconds: Math.max(1, Math.ceil(options.leaseDurationMs / 1000)),
      acquireTime: holdsAlready && previous?.acquireTime ? previous.acquireTime : microTime(now),
      renewTime: microTime(now),
      leaseTransitions: (previous?.leaseTransitions ?? 0) + (holdsAlready ? 0 : 1),
    };
  };

  async function tryAcquireOrRenew(signal: AbortSignal): Promise<Attempt> {
    const now = clock.now();
    const got = await request('GET', leasePath, { signal, timeoutMs: requestTimeoutMs });
    if (got.status === 404) {
      const created = await request('POST', path, {
        signal,
        timeoutMs: requestTimeoutMs,
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
      timeoutMs: requestTimeoutMs,
      body: { ...current, spec: { ...spec, ...desiredSpec(spec, now) } },
    });
    if (updated.status === 200 && isLease(updated.body)) {
      observe(updated.body);
      return 'acquired';
    }
    if (updated.status !== 409) log.warn({ status: updated.status }, 'lease update failed');
    return 'failed';
  }

  async function attempt(signal: AbortSignal): Promise<Attempt> {
    try {
      return await tryAcquireOrRenew(signal);
    } catch (err) {
      if (signal.aborted) return 'failed';
      log.warn({ err }, 'lease request failed');
      return 'failed';
    }
  }

  /** Jittered like client-go's wait.JitterUntil, so candidates do not hit the API server in step. */
  const retryDelay = (): number => options.retryPeriodMs * (1 + 0.2 * random());

  async function release(): Promise<void> {
    const lease = observed?.lease;
    if (!lease || lease.spec?.holderIdentity !== options.identity) return;
    try {
      const now = clock.now();
      const res = await request('PUT', leasePath, {
        timeoutMs: requestTimeoutMs,
        body: { ...lease, spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: microTime(now) } },
      });
      if (res.status === 200) log.info({}, 'lease released');
      else log.warn({ status: res.status }, 'lease release failed');
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

  async function lead(work: LeaderWork, shutdown: AbortSignal): Promise<'shutdown' | 'lost'> {
    const workAbort = new AbortController();
    const stopWork = (): void => workAbort.abort(shutdown.reason ?? new Error('shutdown'));
    shutdown.addEventListener('abort', stopWork, { once: true });
    setLeading(true);
    let workError: unknown;
    let workEnded = false;
    const running = work(workAbort.signal).then(
      () => {
        workEnded = true;
      },
      (err: unknown) => {
        workEnded = true;
        workError = err ?? new Error('work failed');
      },
    );
    const workDone = running.then(() => 'work' as const);

    let lastRenew = clock.now();
    let outcome: 'shutdown' | 'lost' | 'work' = 'shutdown';
    while (!shutdown.aborted) {
      const slept = await Promise.race([pause(retryDelay(), workAbort.signal).then(() => 'slept' as const), workDone]);
      if (slept === 'work' || workEnded) {
        outcome = 'work';
        break;
      }
      if (shutdown.aborted) break;
      const result = await attempt(workAbort.signal);
      if (result === 'acquired') {
        lastRenew = clock.now();
      } else if (result === 'held-by-other' || clock.now() - lastRenew >= options.renewDeadlineMs) {
        log.warn({ result, sinceRenewMs: clock.now() - lastRenew }, 'lost the lease');
        outcome = 'lost';
        workAbort.abort(new LeaseLostError('lost the lease'));
        break;
      }
    }
    shutdown.removeEventListener('abort', stopWork);
    if (shutdown.aborted) stopWork();
    await running;
    setLeading(false);
    if (outcome === 'lost') {
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
        const result = await attempt(signal);
        if (result === 'acquired') {
          const ended = await lead(work, signal);
          if (ended === 'shutdown') return;
          continue;
        }
        if (!(await pause(retryDelay(), signal))) break;
      }
    },
  };
}
