import type { Clock, Random } from '../core/clock.js';

export interface BackoffOptions {
  readonly initialMs: number;
  readonly maxMs: number;
  /** Extra random share of each delay: 0.5 means up to +50 %. */
  readonly jitter: number;
  /** After this long without a failure the next delay starts from `initialMs` again. */
  readonly resetAfterMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 800, maxMs: 30_000, jitter: 0.5, resetAfterMs: 120_000 };

/** Exponential backoff with jitter, capped, forgotten after a healthy period (like client-go's). */
export class Backoff {
  private attempt = 0;
  private lastFailureAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly options: BackoffOptions,
    private readonly clock: Clock,
    private readonly random: Random,
  ) {}

  /** The delay before the next try, after one more failure. */
  next(): number {
    const now = this.clock.now();
    if (now - this.lastFailureAt > this.options.resetAfterMs) this.attempt = 0;
    this.lastFailureAt = now;
    const base = Math.min(this.options.maxMs, this.options.initialMs * 2 ** this.attempt);
    this.attempt += 1;
    return Math.round(Math.min(this.options.maxMs, base * (1 + this.options.jitter * this.random())));
  }

  reset(): void {
    this.attempt = 0;
    this.lastFailureAt = Number.NEGATIVE_INFINITY;
  }
}
