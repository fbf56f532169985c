/**
 * Health and readiness from what the pipeline reports (`ProgressListener`). Liveness fails when an
 * active pipeline made no progress — no list page, watch event or bookmark, no push answered or
 * failed — for `stallTimeoutMs`, so a stuck watch gets the pod restarted. A failed push is progress:
 * during a long Loki outage the watch is paused by backpressure and only the sink's retries move,
 * and a restart would not bring Loki back (it would only relist and resend). Readiness needs an open watch and a
 * destination seen reachable: by a push it accepted or by a probe of it (`destinationProbed`).
 * Until either happened the destination is "unknown" and the replica is not ready. A push answered
 * 404/3xx (misrouted) or 401/403 (credentials) keeps the replica unready until a push is accepted:
 * Loki's `/ready` may well answer 200 through the same ingress, so a probe cannot clear it. A
 * standby replica (not the leader) is live and ready.
 */
import type { Clock } from '../core/clock.js';
import type { ProgressListener, SinkFailure } from '../core/progress.js';

export interface Verdict {
  readonly ok: boolean;
  /** Short, constant-ish explanation served in the probe's body. */
  readonly reason: string;
}

export type DestinationState = 'unknown' | 'reachable' | 'unreachable';

export interface HealthTracker extends ProgressListener {
  /** The pipeline starts (true) or stops (false) running here; a start restarts the stall clock. */
  setActive(active: boolean): void;
  /** A probe of the destination (Loki's `/ready`) answered ready or not; not liveness progress. */
  destinationProbed(ready: boolean): void;
  /** When the destination last accepted a push (epoch ms), if ever. */
  lastDeliveryAt(): number | undefined;
  liveness(): Verdict;
  readiness(): Verdict;
}

export interface HealthOptions {
  readonly stallTimeoutMs: number;
  readonly clock: Clock;
  /** The destination needs no network (stdout): always reachable. Default false. */
  readonly destinationAlwaysReachable?: boolean;
}

export function createHealthTracker(options: HealthOptions): HealthTracker {
  const { clock, stallTimeoutMs } = options;
  let active = false;
  let lastProgress = clock.now();
  let watchOpen = false;
  // Reachability belongs to the destination, not to a term: kept when the pipeline restarts.
  let destination: DestinationState = options.destinationAlwaysReachable === true ? 'reachable' : 'unknown';
  let lastDelivery: number | undefined;
  let pending = false;
  /** The last push failed for a reason a probe of `/ready` cannot see (misrouted, credentials). */
  let pushRefused: SinkFailure | undefined;
  const progressed = (): void => {
    lastProgress = clock.now();
  };

  return {
    sourceActivity: progressed,
    watchOpen(open) {
      watchOpen = open;
    },
    sinkDelivered() {
      destination = 'reachable';
      pushRefused = undefined;
      lastDelivery = clock.now();
      progressed();
    },
    sinkUnavailable(failure) {
      if (options.destinationAlwaysReachable === true) return;
      destination = 'unreachable';
      pushRefused = failure !== undefined && failure.cause !== 'unavailable' ? failure : undefined;
      progressed();
    },
    sinkPending(isPending) {
      pending = isPending;
    },
    destinationProbed(ready) {
      if (options.destinationAlwaysReachable !== true) destination = ready ? 'reachable' : 'unreachable';
    },
    lastDeliveryAt: () => lastDelivery,
    setActive(isActive) {
      if (isActive && !active) {
        lastProgress = clock.now();
        watchOpen = false;
      }
      active = isActive;
    },
    liveness() {
      if (!active) return { ok: true, reason: 'standby' };
      const idleMs = clock.now() - lastProgress;
      if (idleMs > stallTimeoutMs) {
        const what = pending ? 'entries are pending but nothing was delivered' : 'no event, bookmark or push';
        return { ok: false, reason: `stalled: ${what} for ${Math.round(idleMs / 1000)}s` };
      }
      return { ok: true, reason: 'ok' };
    },
    readiness() {
      if (!active) return { ok: true, reason: 'standby' };
      if (!watchOpen) return { ok: false, reason: 'no open watch' };
      if (pushRefused !== undefined) {
        const what = pushRefused.cause === 'misrouted' ? 'Loki push URL misrouted' : 'Loki refuses the credentials';
        return { ok: false, reason: `${what}: ${pushRefused.summary}` };
      }
      if (destination === 'unknown') return { ok: false, reason: 'destination not yet seen reachable' };
      if (destination === 'unreachable') return { ok: false, reason: 'destination unreachable' };
      return { ok: true, reason: 'ok' };
    },
  };
}
