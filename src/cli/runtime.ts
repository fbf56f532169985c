/** What every long-running command shares: logger, metrics, health, clock and randomness. */
import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import { systemClock, type Clock, type Random } from '../core/clock.js';
import { createHealthTracker, type HealthTracker } from '../observe/health.js';
import { createLogger } from '../observe/logger.js';
import { createMetrics, type Metrics } from '../observe/metrics.js';

export interface Runtime {
  readonly config: Config;
  readonly version: string;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly health: HealthTracker;
  readonly clock: Clock;
  readonly random: Random;
}

export function createRuntime(config: Config, version: string): Runtime {
  const clock = systemClock;
  return {
    config,
    version,
    logger: createLogger({ level: config.logLevel, version }),
    metrics: createMetrics({ version, processMetrics: true }),
    health: createHealthTracker({ clock, stallTimeoutMs: config.healthStallTimeout, destinationAlwaysReachable: config.lokiUrl === undefined }),
    clock,
    random: Math.random,
  };
}
