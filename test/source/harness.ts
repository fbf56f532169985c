/** Shared set-up for the source tests: a real source against the fake API server, recording what it hands over. */
import pino from 'pino';
import type { Logger } from 'pino';
import type { Clock } from '../../src/core/clock.js';
import type { ProgressListener } from '../../src/core/progress.js';
import { createMetrics } from '../../src/observe/metrics.js';
import type { Metrics } from '../../src/observe/metrics.js';
import { createEventSource } from '../../src/source/index.js';
import type { SourceItem, SourceOptions, StreamStart } from '../../src/source/index.js';
import type { FakeKubeApiServer } from '../fakes/kube-api-server.js';
import { BASE_TEST_SOURCE_OPTIONS } from '../support/source-options.js';

/** Real time for `now`, but sleeps (backoff) return at once and are recorded. */
export function fastClock(): Clock & { readonly sleeps: number[] } {
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => Date.now(),
    sleep: (ms, signal) =>
      new Promise<void>((resolve, reject) => {
        sleeps.push(ms);
        if (signal?.aborted) reject(signal.reason as Error);
        else setImmediate(resolve);
      }),
  };
}

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
  readonly clock: ReturnType<typeof fastClock>;
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

/** Waits (bounded) until `cond` holds. */
export async function until(cond: () => boolean, what = 'condition', timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** The value of one sample in the Prometheus text the registry serves. */
export async function metricValue(metrics: Metrics, name: string, labels = ''): Promise<number> {
  const text = await metrics.registry.metrics();
  const line = text.split('\n').find((l) => l.startsWith(`kube_event_shipper_${name}${labels ? `{${labels}}` : ''} `));
  if (line === undefined) throw new Error(`no sample ${name}{${labels}}`);
  return Number(line.split(' ')[1]);
}

/** A pino logger that keeps every record, parsed. */
export function capturingLogger(): { logger: Logger; records: Record<string, unknown>[] } {
  const records: Record<string, unknown>[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => records.push(JSON.parse(line) as Record<string, unknown>) });
  return { logger, records };
}
