/**
 * The one retry backoff: exponential from `initialMs`, capped at `maxMs`, spread by a jitter
 * strategy, optionally forgotten after a healthy period and optionally overridden by a delay the
 * server asked for (Retry-After). Used by the source's watch, the sink's pushes and checkpoint loading.
 */
import type { Clock, Random } from './clock.js';

/**
 * How the random source spreads a delay.
 * - `extra`: up to `share` more on top of the delay (client-go's wait.Jitter): 0.5 → +0–50 %,
 *   rounded, never past the cap. Reconnects of one client stay close to the schedule.
 * - `full`: anywhere from 0 up to the delay, floored (AWS's "full jitter"): many clients retrying
 *   one overloaded server spread out the most.
 */
export type Jitter = { readonly kind: 'extra'; readonly share: number } | { readonly kind: 'full' };

export interface BackoffOptions {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly jitter: Jitter;
  /** After this long without a failure the next delay starts from `initialMs` again. Default never. */
  readonly resetAfterMs?: number;
  /**
   * The longest delay a server may ask for (Retry-After). A server's delay wins over the schedule,
   * up to this (or `maxMs` if larger), but never below `initialMs`: `Retry-After: 0` cannot make
   * a zero-delay retry loop. Default `maxMs`.
   */
  readonly maxServerDelayMs?: number;
}

/** Watch reconnects and checkpoint reads: 0.8 s doubling to 30 s, +0–50 %, forgotten after 2 healthy minutes. */
export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 800, maxMs: 30_000, jitter: { kind: 'extra', share: 0.5 }, resetAfterMs: 120_000 };

export class Backoff {
  private attempt = 0;
  private lastFailureAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly options: BackoffOptions,
    private readonly clock: Clock,
    private readonly random: Random,
  ) {}

  /** The delay before the next try, after one more failure; `serverDelayMs` is what the server asked for. */
  next(serverDelayMs?: number): number {
    const { initialMs, maxMs, jitter, resetAfterMs } = this.options;
    if (resetAfterMs !== undefined) {
      const now = this.clock.now();
      if (now - this.lastFailureAt > resetAfterMs) this.attempt = 0;
      this.lastFailureAt = now;
    }
    const base = Math.min(maxMs, initialMs * 2 ** Math.min(this.attempt, 52));
    this.attempt += 1;
    if (serverDelayMs !== undefined) {
      return Math.max(initialMs, Math.min(serverDelayMs, Math.max(maxMs, this.options.maxServerDelayMs ?? maxMs)));
    }
    if (jitter.kind === 'full') return Math.floor(this.random() * base);
    return Math.round(Math.min(maxMs, base * (1 + jitter.share * this.random())));
  }

  reset(): void {
    this.attempt = 0;
    this.lastFailureAt = Number.NEGATIVE_INFINITY;
  }
}
