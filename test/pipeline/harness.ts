/**
 * End-to-end set-up: the real shipper (source, transform, Loki sink, checkpoint) between the fake
 * API server and the fake Loki receiver. Only the two HTTP boundaries are fakes.
 */
import pino from 'pino';
import type { Logger } from 'pino';
import type { CheckpointStore } from '../../src/checkpoint/index.js';
import { systemClock } from '../../src/core/clock.js';
import type { Clock } from '../../src/core/clock.js';
import { ignoreProgress } from '../../src/core/progress.js';
import { createMetrics } from '../../src/observe/metrics.js';
import type { Metrics } from '../../src/observe/metrics.js';
import { createShipper } from '../../src/pipeline/index.js';
import type { ShipperOptions } from '../../src/pipeline/index.js';
import { createLokiSink } from '../../src/sink/loki/index.js';
import type { LokiSinkOptions } from '../../src/sink/loki/index.js';
import type { SourceOptions } from '../../src/source/index.js';
import { createTransformer, DEFAULT_TRANSFORM_OPTIONS } from '../../src/transform/index.js';
import type { FakeKubeApiServer } from '../fakes/kube-api-server.js';
import type { FakeLoki, StoredEntry } from '../fakes/loki-receiver.js';
import { BASE_TEST_SOURCE_OPTIONS } from '../support/source-options.js';

export interface RunningShipper {
  readonly metrics: Metrics;
  /** Resolves when `run` has resolved (after the stop signal, or on its own). */
  readonly done: Promise<void>;
  stop(): Promise<void>;
}

export interface ShipperSetup {
  readonly fake: FakeKubeApiServer;
  readonly loki: FakeLoki;
  readonly checkpoint: CheckpointStore | undefined;
  readonly source?: Partial<SourceOptions>;
  readonly filters?: ShipperOptions['filters'];
  readonly sink?: Partial<LokiSinkOptions>;
  readonly drainTimeoutMs?: number;
  readonly checkpointIntervalMs?: number;
  /** Defaults to the system clock. */
  readonly clock?: Clock;
  /** Ordering options of the shipper (out-of-order window, sort budget). */
  readonly ordering?: Pick<ShipperOptions, 'outOfOrderWindowMs' | 'sortBudgetBytes' | 'sortDir'>;
  /** Defaults to a silent logger. */
  readonly logger?: Logger;
}

export function startShipper(setup: ShipperSetup): RunningShipper {
  const metrics = createMetrics({ version: 'test' });
  const logger = setup.logger ?? pino({ level: 'silent' });
  const deps = { metrics, logger, clock: setup.clock ?? systemClock, random: Math.random, progress: ignoreProgress };
  const sink = createLokiSink({ url: setup.loki.url, batchMaxWaitMs: 10, minBackoffMs: 5, maxBackoffMs: 50, timeoutMs: 2_000, ...setup.sink }, deps);
  const shipper = createShipper(
    {
      source: {
        ...BASE_TEST_SOURCE_OPTIONS,
        backoff: { initialMs: 5, maxMs: 50, jitter: { kind: 'extra', share: 0.5 }, resetAfterMs: 1_000 },
        ...setup.source,
      },
      filters: setup.filters ?? {},
      checkpointIntervalMs: setup.checkpointIntervalMs ?? 50,
      drainTimeoutMs: setup.drainTimeoutMs ?? 2_000,
      ...setup.ordering,
    },
    {
      kubeConfig: setup.fake.kubeConfig(),
      sink,
      transformer: createTransformer(DEFAULT_TRANSFORM_OPTIONS, { now: () => Date.now() }),
      checkpoint: setup.checkpoint,
      ...deps,
    },
  );
  const controller = new AbortController();
  const done = shipper.run(controller.signal);
  return {
    metrics,
    done,
    stop: async () => {
      controller.abort();
      await done;
    },
  };
}

/** event_uid → how many entries Loki stored for it. */
export function entriesPerEvent(entries: readonly StoredEntry[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const e of entries) {
    const uid = e.structuredMetadata['event_uid'] ?? '?';
    counts.set(uid, (counts.get(uid) ?? 0) + 1);
  }
  return counts;
}

/** Lines Loki stored more than once (identical entries in one stream count once in Loki too, but we want none). */
export function duplicates(entries: readonly StoredEntry[]): string[] {
  const seen = new Set<string>();
  const dups: string[] = [];
  for (const e of entries) {
    const key = `${e.labels}|${e.ts}|${e.line}`;
    if (seen.has(key)) dups.push(e.line);
    seen.add(key);
  }
  return dups;
}
