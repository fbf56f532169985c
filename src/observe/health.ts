/**
 * Health and readiness from what the pipeline reports (`ProgressListener`). Liveness fails when an
 * active pipeline made no progress — no list page, watch event or bookmark, no successful push — for
 * `stallTimeoutMs`, so a stuck watch gets the pod restarted. Readiness needs an open watch and a
 * destination that answered last time. A standby replica (not the leader) is live and ready.
 */
import type { Clock } from '../core/clock.js';
import type { ProgressListener } from '../core/progress.js';

export interface Verdict {
  readonly ok: boolean;
  /** Short, constant-ish explanation served in the probe's body. */
  readonly reason: string;
}

export interface HealthTracker extends ProgressListener {
  /** The pipeline starts (true) or stops (false) running here; a start restarts the stall clock. */
  setActive(active: boolean): void;
  liveness(): Verdict;
  readiness(): Verdict;
}

export interface HealthOptions {
  readonly stallTimeoutMs: number;
  readonly clock: Clock;
}

export function createHealthTracker(options: HealthOptions): HealthTracker {
  const { clock, stallTimeoutMs } = options;
  let active = false;
  let lastProgress = clock.now();
  let watchOpen = false;
  let sinkReachable = true;
  let pending = false;
  const progressed = (): void => {
    lastProgress = clock.now();
  };

  return {
    sourceActivity: progressed,
    watchOpen(open) {
      watchOpen = open;
    },
    sinkDelivered() {
      sinkReachable = true;
      progressed();
    },
    sinkUnavailable() {
      sinkReachable = false;
    },
    sinkPending(isPending) {
      pending = isPending;
    },
    setActive(isActive) {
      if (isActive && !active) {
        lastProgress = clock.now();
        watchOpen = false;
        sinkReachable = true;
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
      if (!sinkReachable) return { ok: false, reason: 'destination unreachable' };
      return { ok: true, reason: 'ok' };
    },
  };
}
