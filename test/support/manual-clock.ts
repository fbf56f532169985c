import type { Clock } from '../../src/core/clock.js';

interface Timer {
  readonly at: number;
  readonly resolve: () => void;
}

export interface ManualClockOptions {
  /** Where time starts (ms since the epoch). */
  readonly startMs?: number;
  /** Jump to the end of every sleep on the next turn of the event loop. */
  readonly autoAdvance?: boolean;
}

/**
 * A clock whose time only moves when the test says so (`advance`), or, with `autoAdvance`, jumps
 * to the end of every sleep on the next turn of the event loop, so backoff costs no wall time.
 * Every requested sleep is recorded in `sleeps`. Shared by every test that needs exact time.
 */
export class ManualClock implements Clock {
  nowMs: number;
  readonly sleeps: number[] = [];
  private timers: Timer[] = [];
  private readonly autoAdvance: boolean;

  constructor(options: ManualClockOptions = {}) {
    this.nowMs = options.startMs ?? 1_800_000_000_000;
    this.autoAdvance = options.autoAdvance ?? false;
  }

  now(): number {
    return this.nowMs;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.sleeps.push(ms);
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason as Error);
        return;
      }
      const timer: Timer = {
        at: this.nowMs + ms,
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
          this.nowMs = Math.max(this.nowMs, timer.at);
          this.fire();
        });
      }
    });
  }

  /** Moves time forward and resolves every sleep that is due. */
  advance(ms: number): void {
    this.nowMs += ms;
    this.fire();
  }

  /** Sleeps not yet due. */
  get pending(): number {
    return this.timers.length;
  }

  private fire(): void {
    const due = this.timers.filter((t) => t.at <= this.nowMs);
    this.timers = this.timers.filter((t) => t.at > this.nowMs);
    for (const timer of due) timer.resolve();
  }
}
