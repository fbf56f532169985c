import type { DeliveryOutcome, Entry, EntrySink } from '../../src/core/entry.js';
import type { ProgressListener } from '../../src/core/progress.js';
import { createMetrics, type Metrics } from '../../src/observe/metrics.js';
import { createLokiSink } from '../../src/sink/loki/loki-sink.js';
import type { LokiSinkOptions } from '../../src/sink/loki/options.js';
import { startFakeLoki, type FakeLoki, type FakeLokiOptions } from '../fakes/loki-receiver.js';
import { capturingLogger } from '../support/logger.js';
import { ManualClock } from '../support/manual-clock.js';
import { metricValue } from '../support/metrics.js';

export type ProgressCall = 'delivered' | 'unavailable' | 'pending' | 'idle';

export interface Harness {
  readonly loki: FakeLoki;
  readonly sink: EntrySink;
  readonly clock: ManualClock;
  readonly metrics: Metrics;
  /** Parsed pino lines at level warn (or the level asked for) and above. */
  readonly logs: Record<string, unknown>[];
  readonly progress: ProgressCall[];
  /** Outcomes per occurrenceId. */
  readonly outcomes: Map<string, DeliveryOutcome[]>;
  /** Writes with an outcome recorder; resolves when the sink accepted it. */
  write(entry: Entry): Promise<void>;
  /** The value of the one sample with this name (or `name{labels}` selector), from the shared reader. */
  metric(selector: string): Promise<number>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  readonly sink?: Partial<LokiSinkOptions>;
  readonly autoAdvance?: boolean;
  readonly random?: () => number;
  readonly fake?: FakeLokiOptions;
  /** Default warn. */
  readonly logLevel?: 'info' | 'warn';
  /** Also told everything the sink reports (e.g. a real health tracker). */
  readonly progress?: ProgressListener;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const loki = await startFakeLoki(options.fake);
  const clock = new ManualClock({ autoAdvance: options.autoAdvance ?? true });
  const metrics = createMetrics({ version: 'test' });
  const { logger, records: logs } = capturingLogger(options.logLevel ?? 'warn');
  const progressCalls: ProgressCall[] = [];
  const also = options.progress;
  const progress: ProgressListener = {
    sourceActivity: () => undefined,
    watchOpen: () => undefined,
    sinkDelivered: () => {
      progressCalls.push('delivered');
      also?.sinkDelivered();
    },
    sinkUnavailable: (failure) => {
      progressCalls.push('unavailable');
      also?.sinkUnavailable(failure);
    },
    sinkPending: (pending) => {
      progressCalls.push(pending ? 'pending' : 'idle');
      also?.sinkPending(pending);
    },
  };
  let sink: EntrySink;
  try {
    sink = createLokiSink({ url: loki.url, ...options.sink }, { metrics, logger, clock, random: options.random ?? (() => 0.5), progress });
  } catch (err) {
    // Options the sink refuses must fail the test, not leave the fake Loki holding the process open.
    await loki.close();
    throw err;
  }
  const outcomes = new Map<string, DeliveryOutcome[]>();
  return {
    loki,
    sink,
    clock,
    metrics,
    logs,
    progress: progressCalls,
    outcomes,
    write: (entry) => {
      outcomes.set(entry.occurrenceId, []);
      return sink.write(entry, (outcome) => outcomes.get(entry.occurrenceId)?.push(outcome));
    },
    metric: (selector) => metricValue(metrics, selector),
    close: async () => {
      await sink.close(0);
      await loki.close();
    },
  };
}

/**
 * A recent time with a sub-millisecond part, in ns: the fake Loki, like a real one, refuses
 * entries older than 7 days, so test entries cannot use a fixed date.
 */
export const BASE_NS = BigInt(Date.now() - 10 * 60_000) * 1_000_000n + 123_456_000n;

export function entry(i: number, overrides: Partial<Entry> = {}): Entry {
  return {
    labels: { job: 'kube-event-shipper', namespace: 'default', reason: 'Started', type: 'Normal' },
    timestampNs: BASE_NS + BigInt(i),
    line: `reason=Started msg="entry ${i}"`,
    structuredMetadata: { event_uid: `uid-${i}` },
    occurrenceId: `occ-${i}`,
    ...overrides,
  };
}
