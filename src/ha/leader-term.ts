/**
 * Why its own module: what the leader's work is told of its term (stop reasons, the `lost` signal)
 * is the contract the pipeline codes against, apart from how the Lease is won and kept.
 */
import { ShipperError } from '../core/errors.js';

/** The abort reason the work sees when its term ended because the Lease was lost (not a shutdown). */
export class LeaseLostError extends ShipperError {
  readonly code = 'E_LEASE_LOST';
}

/** True once `signal` (a work signal) was aborted because this term lost the Lease. */
export function lostTheLease(signal: AbortSignal): boolean {
  const reason: unknown = signal.reason;
  return signal.aborted && reason instanceof ShipperError && reason.code === 'E_LEASE_LOST';
}

/** What the work knows of its leadership term beyond its stop signal. */
export interface LeaderTerm {
  /**
   * Aborted with a `LeaseLostError` once this term lost the Lease — also after a shutdown began,
   * while the work drains: from then on the checkpoint belongs to the next leader.
   */
  readonly lost: AbortSignal;
}

/** A term that cannot be lost: work run without leader election. */
export const UNCONTESTED_TERM: LeaderTerm = { lost: new AbortController().signal };

/**
 * The work to run while leading; it must stop promptly when `signal` aborts. The abort reason is a
 * `LeaseLostError` when the Lease was lost (see `lostTheLease`), the shutdown's reason otherwise.
 * The Lease is renewed until the work has finished (drain and final checkpoint included).
 */
export type LeaderWork = (signal: AbortSignal, term: LeaderTerm) => Promise<void>;
