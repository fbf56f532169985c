import type { Logger } from 'pino';
import type { Clock, Random } from '../core/clock.js';
import type { ProgressListener } from '../core/progress.js';
import type { Metrics } from '../observe/metrics.js';

/** What every sink is given besides its options. */
export interface SinkDeps {
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly clock: Clock;
  /** Jitter for retry backoff. */
  readonly random: Random;
  readonly progress: ProgressListener;
}
