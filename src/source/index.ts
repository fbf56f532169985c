/**
 * The Kubernetes source: one reflector per watched collection (cluster-wide, or one per included
 * namespace), each a list-then-watch loop that resumes from a resourceVersion. See reflector.ts.
 */
import type { ProgressListener } from '../core/progress.js';
import { DEFAULT_BACKOFF } from '../core/backoff.js';
import type { BackoffOptions } from '../core/backoff.js';
import { Reflector } from './reflector.js';
import type { EventApi, InitialPolicy, SourceServices, StreamStart } from './types.js';

export type { EventApi, InitialPolicy, SourceHandler, SourceItem, StreamStart } from './types.js';

/** The stream name of the cluster-wide watch; per-namespace streams are named by their namespace. */
const ALL_NAMESPACES = '*';

export interface SourceOptions {
  readonly api: EventApi;
  /** Watch only these namespaces (one watch each); empty: all namespaces with one watch. */
  readonly namespaces: readonly string[];
  /** Left out server-side with a `metadata.namespace!=` field selector (and client-side, in the pipeline). */
  readonly excludeNamespaces: readonly string[];
  /** Extra server-side field selector, e.g. `type=Warning`. */
  readonly fieldSelector?: string;
  readonly pageSize: number;
  readonly initial: InitialPolicy;
  readonly watchTimeoutSeconds?: { readonly min: number; readonly max: number };
  readonly requestTimeoutMs?: number;
  readonly stallTimeoutMs: number;
  readonly listTimeoutMs?: number;
  readonly shortWatchMs?: number;
  readonly shortWatchLimit?: number;
  readonly relistMarginMs?: number;
  readonly authRetryMs?: number;
  readonly backoff?: BackoffOptions;
  readonly maxQueuedEvents?: number;
  readonly maxQueuedBytes?: number;
  readonly maxPageBytes?: number;
}

/** Defaults for the tuning knobs that have no flag. */
const SOURCE_DEFAULTS = {
  watchTimeoutSeconds: { min: 300, max: 600 },
  requestTimeoutMs: 30_000,
  listTimeoutMs: 60_000,
  shortWatchMs: 1_000,
  shortWatchLimit: 3,
  relistMarginMs: 5 * 60_000,
  authRetryMs: 60_000,
  maxQueuedEvents: 5_000,
  maxQueuedBytes: 8 * 1024 * 1024,
  maxPageBytes: 8 * 1024 * 1024,
} as const;

export interface SourceDeps extends SourceServices {
  readonly progress: ProgressListener;
}

export interface EventSource {
  /** The stream names this source runs (checkpoint keys). */
  readonly streams: readonly string[];
  /** Lists and watches until `signal` aborts; `starts` resumes streams from a checkpoint. */
  run(starts: Readonly<Record<string, StreamStart>>, signal: AbortSignal): Promise<void>;
}

/** The field selector sent to the server: the configured one plus one exclusion per excluded namespace. */
export function fieldSelectorFor(options: Pick<SourceOptions, 'fieldSelector' | 'excludeNamespaces'>): string | undefined {
  const parts = options.excludeNamespaces.map((ns) => `metadata.namespace!=${ns}`);
  if (options.fieldSelector) parts.unshift(options.fieldSelector);
  return parts.length > 0 ? parts.join(',') : undefined;
}

export function createEventSource(options: SourceOptions, deps: SourceDeps): EventSource {
  const streams = options.namespaces.length > 0 ? [...new Set(options.namespaces)] : [ALL_NAMESPACES];
  const fieldSelector = fieldSelectorFor(options);
  return {
    streams,
    async run(starts, signal) {
      const open = new Set<string>();
      let reported = false;
      // prom-client gauges have no max(): keep the newest event time across all streams here.
      let newestMs = 0;
      const onEventTime = (ms: number): void => {
        if (ms <= newestMs) return;
        newestMs = ms;
        deps.metrics.lastEventTimestamp.set(ms / 1000);
      };
      const report = (): void => {
        const all = open.size === streams.length;
        if (all !== reported) {
          reported = all;
          deps.progress.watchOpen(all);
        }
      };
      const reflectors = streams.map(
        (stream) =>
          new Reflector(
            stream,
            {
              api: options.api,
              namespace: stream === ALL_NAMESPACES ? undefined : stream,
              fieldSelector,
              pageSize: options.pageSize,
              initial: options.initial,
              watchTimeoutSeconds: options.watchTimeoutSeconds ?? SOURCE_DEFAULTS.watchTimeoutSeconds,
              requestTimeoutMs: options.requestTimeoutMs ?? SOURCE_DEFAULTS.requestTimeoutMs,
              stallTimeoutMs: options.stallTimeoutMs,
              listTimeoutMs: options.listTimeoutMs ?? SOURCE_DEFAULTS.listTimeoutMs,
              shortWatchMs: options.shortWatchMs ?? SOURCE_DEFAULTS.shortWatchMs,
              shortWatchLimit: options.shortWatchLimit ?? SOURCE_DEFAULTS.shortWatchLimit,
              relistMarginMs: options.relistMarginMs ?? SOURCE_DEFAULTS.relistMarginMs,
              authRetryMs: options.authRetryMs ?? SOURCE_DEFAULTS.authRetryMs,
              backoff: options.backoff ?? DEFAULT_BACKOFF,
              maxQueuedEvents: options.maxQueuedEvents ?? SOURCE_DEFAULTS.maxQueuedEvents,
              maxQueuedBytes: options.maxQueuedBytes ?? SOURCE_DEFAULTS.maxQueuedBytes,
              maxPageBytes: options.maxPageBytes ?? SOURCE_DEFAULTS.maxPageBytes,
            },
            {
              kubeConfig: deps.kubeConfig,
              handler: deps.handler,
              metrics: deps.metrics,
              logger: deps.logger,
              clock: deps.clock,
              random: deps.random,
              onActivity: () => deps.progress.sourceActivity(),
              onEventTime,
              onWatchOpen: (isOpen) => {
                if (isOpen) open.add(stream);
                else open.delete(stream);
                report();
              },
              // A server without events.k8s.io/v1 still serves the same Events through core/v1.
              onApiNotFound: (failed) => (failed === 'events.k8s.io/v1' ? 'core/v1' : undefined),
            },
            starts[stream],
          ),
      );
      await Promise.all(reflectors.map((r) => r.run(signal)));
      open.clear();
      report();
    },
  };
}
