/** Shared set-up for the source tests: a real source against the fake API server, recording what it hands over. */
import pino from 'pino';
import type { Logger } from 'pino';
import type { ProgressListener } from '../../src/core/progress.js';
import { createMetrics } from '../../src/observe/metrics.js';
import type { Metrics } from '../../src/observe/metrics.js';
import { createEventSource } from '../../src/source/index.js';
import type { SourceItem, SourceOptions, StreamStart } from '../../src/source/index.js';
import type { FakeKubeApiServer } from '../fakes/kube-api-server.js';
import { fastClock, type ManualClock } from '../support/manual-clock.js';
import { BASE_TEST_SOURCE_OPTIONS } from '../support/source-options.js';

export interface Recorded {
  readonly stream: string;
  readonly item: SourceItem;
  /** List requests the fake had served when this item was handed over. */
  readonly listsServed: number;
}

export interface RunningSource {
  readonly items: Recorded[];
  readonly positions: { stream: string; resourceVersion: string }[];
  /** Names of listed events passed to `onSkipped` (left out, their occurrence counted as seen). */
  readonly skipped: string[];
  readonly metrics: Metrics;
  readonly clock: ManualClock;
  readonly watchOpen: boolean[];
  /** How often the source reported activity to the health tracker. */
  activity(): number;
  names(): string[];
  stop(): Promise<void>;
}

export const TEST_SOURCE_OPTIONS: SourceOptions = {
  ...BASE_TEST_SOURCE_OPTIONS,
  watchTimeoutSeconds: { min: 60, max: 60 },
  authRetryMs: 10,
};

export function startSource(
  fake: FakeKubeApiServer,
  overrides: Partial<SourceOptions> = {},
  starts: Record<string, StreamStart> = {},
  /** A slow consumer: each item takes this long to hand over, or until the promise this returns settles. */
  handlerDelayMs: number | (() => Promise<void>) = 0,
  logger: Logger = pino({ level: 'silent' }),
): RunningSource {
  const items: Recorded[] = [];
  const positions: { stream: string; resourceVersion: string }[] = [];
  const skipped: string[] = [];
  const metrics = createMetrics({ version: 'test' });
  const clock = fastClock();
  const watchOpen: boolean[] = [];
  let activity = 0;
  const progress: ProgressListener = {
    sourceActivity: () => {
      activity += 1;
    },
    watchOpen: (open) => watchOpen.push(open),
    sinkDelivered: () => undefined,
    sinkUnavailable: () => undefined,
    sinkPending: () => undefined,
  };
  const source = createEventSource(
    { ...TEST_SOURCE_OPTIONS, ...overrides },
    {
      kubeConfig: fake.kubeConfig(),
      handler: {
        onItem: async (stream, item) => {
          items.push({ stream, item, listsServed: fake.count('list') });
          if (typeof handlerDelayMs === 'function') await handlerDelayMs();
          else if (handlerDelayMs > 0) await new Promise((r) => setTimeout(r, handlerDelayMs));
        },
        onPosition: (stream, resourceVersion) => {
          positions.push({ stream, resourceVersion });
        },
        onSkipped: (_stream, object) => skipped.push(String((object['metadata'] as { name?: string }).name)),
      },
      metrics,
      logger,
      clock,
      random: () => 0.5,
      progress,
    },
  );
  const controller = new AbortController();
  const done = source.run(starts, controller.signal);
  return {
    items,
    positions,
    skipped,
    metrics,
    clock,
    watchOpen,
    activity: () => activity,
    names: () => items.map((r) => `${r.item.type} ${String((r.item.object['metadata'] as { name?: string }).name)}`),
    stop: async () => {
      controller.abort();
      await done;
    },
  };
}
