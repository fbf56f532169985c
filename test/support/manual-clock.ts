import { systemClock, type Clock } from '../../src/core/clock.js';

interface Timer {
  readonly at: number;
  readonly resolve: () => void;
}

export interface ManualClockOptions {
  /**
   * Where time starts (ms since the epoch), or `'wall'` to read the real clock (plus whatever
   * `advance` added): for code that also compares with `Date.now()`, like Loki's age limits.
   */
  readonly startMs?: number | 'wall';
  /**
   * Sleeps end on the next turn of the event loop instead of waiting for `advance`, so backoff
   * costs no wall time. With a numeric start time jumps to the end of each sleep; on the wall
   * clock it does not (real time moves on by itself).
   */
  readonly autoAdvance?: boolean;
  /** Every reading of `now()` first moves time on by this much: time passes as the code looks. */
  readonly stepPerReadMs?: number;
  /** Sleeps last their real duration (still recorded): with `startMs: 'wall'`, the system clock, watched. */
  readonly realSleeps?: boolean;
}

/**
 * The one test clock. Time moves only when the test says so (`advance`), or as configured: sleeps
 * ending at once (`autoAdvance`) or in real time (`realSleeps`), the wall clock as the base
 * (`startMs: 'wall'`), time moving on at every reading (`stepPerReadMs`); the adapters below name
 * the usual combinations. Every requested sleep is recorded in `sleeps`.
 */
export class ManualClock implements Clock {
  readonly sleeps: number[] = [];
  private timers: Timer[] = [];
  private readonly autoAdvance: boolean;
  private readonly wall: boolean;
  private readonly stepPerReadMs: number;
  private readonly realSleeps: boolean;
  /** Manual time, or on the wall clock the offset that `advance` added. */
  private ms: number;

  constructor(options: ManualClockOptions = {}) {
    this.wall = options.startMs === 'wall';
    this.ms = options.startMs === 'wall' ? 0 : (options.startMs ?? 1_800_000_000_000);
    this.autoAdvance = options.autoAdvance ?? false;
    this.stepPerReadMs = options.stepPerReadMs ?? 0;
    this.realSleeps = options.realSleeps ?? false;
  }

  now(): number {
    this.ms += this.stepPerReadMs;
    return this.current();
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.sleeps.push(ms);
    if (this.realSleeps) return systemClock.sleep(ms, signal);
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason as Error);
        return;
      }
      const timer: Timer = {
        at: this.current() + ms,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = (): void => {
        this.timers = this.timers.filter((t) => t !== timer);
        reject(signal?.reason as Error);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.timers.push(timer);
      if (this.autoAdvance || ms <= 0) {
        setImmediate(() => {
          if (!this.timers.includes(timer)) return;
          if (this.wall) {
            this.timers = this.timers.filter((t) => t !== timer);
            timer.resolve();
          } else {
            this.ms = Math.max(this.ms, timer.at);
          }
          this.fire();
        });
      }
    });
  }

  /** Moves time forward and resolves every sleep that is due. */
  advance(ms: number): void {
    this.ms += ms;
    this.fire();
  }

  /** Sleeps not yet due. */
  get pending(): number {
    return this.timers.length;
  }

  private current(): number {
    return this.wall ? Date.now() + this.ms : this.ms;
  }

  private fire(): void {
    const now = this.current();
    const due = this.timers.filter((t) => t.at <= now);
    this.timers = this.timers.filter((t) => t.at > now);
    for (const timer of due) timer.resolve();
  }
}

/** Real time for `now`, but sleeps (backoff) end on the next turn and are recorded. */
export function fastClock(): ManualClock {
  return new ManualClock({ startMs: 'wall', autoAdvance: true });
}

/** Every reading of the time moves it on by `stepMs` and sleeps end at once. */
export function steppingClock(startMs: number, stepMs: number): ManualClock {
  return new ManualClock({ startMs, stepPerReadMs: stepMs, autoAdvance: true });
}
