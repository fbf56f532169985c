import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { RETIME_REASONS, SINK_DROP_REASONS } from '../core/entry.js';

/**
 * Every metric the shipper exports, in one place. Label values are bounded and listed here, and
 * every listed combination is pre-set to 0 so dashboards and alerts see a series before the first
 * increment. Modules receive a `Metrics` object; none reaches for a global registry.
 */
export const METRIC_PREFIX = 'kube_event_shipper_';
/**
 * prom-client's default metrics keep their standard, unprefixed names (`process_cpu_seconds_total`,
 * `nodejs_heap_size_total_bytes`, …): that is what generic Node.js and process dashboards query.
 */
export const DEFAULT_METRIC_PREFIXES = ['process_', 'nodejs_'] as const;
/** Every name this registry exports starts with one of these. */
export const EXPORTED_METRIC_PREFIXES = [METRIC_PREFIX, ...DEFAULT_METRIC_PREFIXES] as const;

/** Why an event never became a delivered entry. */
export const EVENT_DROP_REASONS = ['malformed', ...SINK_DROP_REASONS] as const;
export type EventDropReason = (typeof EVENT_DROP_REASONS)[number];

/** Which client-side filter left an event out. */
export const FILTER_KINDS = ['namespace', 'type', 'reason', 'kind'] as const;
export type FilterKind = (typeof FILTER_KINDS)[number];

/**
 * Why a watch ended and was started again. `backpressure`: the consumer fell too far behind, so
 * the watch (which cannot be paused) was cut and resumed from what was handed over.
 */
export const WATCH_RESTART_REASONS = ['server_closed', 'timeout', 'stall', 'error', 'short_watch', 'backpressure'] as const;
export type WatchRestartReason = (typeof WATCH_RESTART_REASONS)[number];

/** Why the source listed again instead of resuming its watch. */
export const RELIST_REASONS = ['initial', 'gone', 'continue_expired', 'error'] as const;
export type RelistReason = (typeof RELIST_REASONS)[number];

/**
 * Why the source read an Event object and did not hand it on. `initial_policy`: listed on a first
 * start and left out by --initial; `unchanged`: listed on a relist with a resourceVersion not newer
 * than the position (handled before); `before_lookback`: listed on a relist, its resourceVersion
 * not comparable with the position and its time older than the look-back; `not_an_object`: a list
 * item or watch object that is not a JSON object; `unknown_watch_type`: a watch event of a type
 * other than ADDED, MODIFIED, DELETED, BOOKMARK or ERROR; `not_json`: a watch line that is not a
 * JSON object (logged with its start).
 */
export const SOURCE_SKIP_REASONS = ['initial_policy', 'unchanged', 'before_lookback', 'not_an_object', 'unknown_watch_type', 'not_json'] as const;
export type SourceSkipReason = (typeof SOURCE_SKIP_REASONS)[number];

export const WATCH_EVENT_TYPES = ['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK', 'LISTED'] as const;
export type WatchEventType = (typeof WATCH_EVENT_TYPES)[number];

/** `conflict`: another writer changed the ConfigMap since we read it (409); nothing was overwritten. */
export const CHECKPOINT_WRITE_RESULTS = ['success', 'error', 'conflict'] as const;

export interface Metrics {
  readonly registry: Registry;
  /** Event objects read from the API server (watch events and listed items), by type. */
  readonly eventsReceived: Counter<'type'>;
  /** Occurrences delivered to the sink's destination. */
  readonly eventsShipped: Counter;
  readonly eventsDropped: Counter<'reason'>;
  readonly eventsFiltered: Counter<'filter'>;
  /** Event objects the source read and did not hand on, by reason (see SOURCE_SKIP_REASONS). */
  readonly eventsSkipped: Counter<'reason'>;
  /** Occurrences seen again (relist overlap, metadata-only updates) and not shipped twice. */
  readonly eventsDuplicate: Counter;
  /** Entries written with a time other than their occurrence time (kept in the line), by why. */
  readonly entriesRetimed: Counter<'reason'>;
  readonly entriesPushed: Counter;
  /** Compressed request body bytes sent to Loki. */
  readonly bytesPushed: Counter;
  /** Push requests by HTTP status code, or `network_error` / `timeout`. */
  readonly pushRequests: Counter<'status_code'>;
  readonly pushDuration: Histogram;
  readonly pushRetries: Counter;
  readonly queueBytes: Gauge;
  readonly queueEntries: Gauge;
  readonly watchRestarts: Counter<'reason'>;
  readonly relists: Counter<'reason'>;
  /** Time carried by the newest event received, in seconds since the epoch. */
  readonly lastEventTimestamp: Gauge;
  /** Unix time of the last successful checkpoint write. */
  readonly checkpointLastWrite: Gauge;
  readonly checkpointWrites: Counter<'result'>;
  readonly leader: Gauge;
  readonly buildInfo: Gauge<'version' | 'node_version'>;
}

export interface MetricsOptions {
  readonly version: string;
  /** Also export the standard (unprefixed) process_* and nodejs_* metrics. */
  readonly processMetrics?: boolean;
}

export function createMetrics(options: MetricsOptions): Metrics {
  const registry = new Registry();
  const name = (n: string): string => METRIC_PREFIX + n;
  const counter = <L extends string>(n: string, help: string, labelNames: readonly L[] = []): Counter<L> =>
    new Counter<L>({ name: name(n), help, labelNames, registers: [registry] });
  const gauge = <L extends string>(n: string, help: string, labelNames: readonly L[] = []): Gauge<L> =>
    new Gauge<L>({ name: name(n), help, labelNames, registers: [registry] });

  const metrics: Metrics = {
    registry,
    eventsReceived: counter('events_received_total', 'Event objects read from the API server, by watch event type.', ['type']),
    eventsShipped: counter('events_shipped_total', 'Event occurrences delivered to the destination.'),
    eventsDropped: counter('events_dropped_total', 'Event occurrences that were not delivered, by reason.', ['reason']),
    eventsFiltered: counter('events_filtered_total', 'Events left out by a client-side filter.', ['filter']),
    eventsSkipped: counter('events_skipped_total', 'Event objects read from the API server and not handed on by the source, by reason.', ['reason']),
    eventsDuplicate: counter('events_duplicate_total', 'Occurrences seen again and not shipped twice.'),
    entriesRetimed: counter('entries_retimed_total', 'Entries moved off their occurrence time to one Loki accepts (true time kept in the line as original_ts), by reason.', ['reason']),
    entriesPushed: counter('entries_pushed_total', 'Entries in push requests that Loki accepted.'),
    bytesPushed: counter('bytes_pushed_total', 'Compressed bytes of push requests sent to Loki.'),
    pushRequests: counter('push_requests_total', 'Push requests to Loki by HTTP status code, network_error or timeout.', ['status_code']),
    pushDuration: new Histogram({
      name: name('push_duration_seconds'),
      help: 'Duration of one push request to Loki.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    pushRetries: counter('push_retries_total', 'Push requests retried after a 429, 5xx or network error.'),
    queueBytes: gauge('queue_bytes', 'Bytes of entries waiting in the sink queue.'),
    queueEntries: gauge('queue_entries', 'Entries waiting in the sink queue.'),
    watchRestarts: counter('watch_restarts_total', 'Watches started again, by why the previous one ended.', ['reason']),
    relists: counter('relists_total', 'Lists of all events, by reason.', ['reason']),
    lastEventTimestamp: gauge('last_event_timestamp_seconds', 'Time of the newest event received, in seconds since the epoch.'),
    checkpointLastWrite: gauge('checkpoint_last_write_timestamp_seconds', 'Unix time of the last successful checkpoint write.'),
    checkpointWrites: counter('checkpoint_writes_total', 'Checkpoint writes by result.', ['result']),
    leader: gauge('leader', '1 while this instance is the leader (or runs without leader election), else 0.'),
    buildInfo: gauge('build_info', 'Always 1; labels carry the version.', ['version', 'node_version']),
  };

  for (const type of WATCH_EVENT_TYPES) metrics.eventsReceived.inc({ type }, 0);
  metrics.eventsShipped.inc(0);
  for (const reason of EVENT_DROP_REASONS) metrics.eventsDropped.inc({ reason }, 0);
  for (const filter of FILTER_KINDS) metrics.eventsFiltered.inc({ filter }, 0);
  for (const reason of SOURCE_SKIP_REASONS) metrics.eventsSkipped.inc({ reason }, 0);
  metrics.eventsDuplicate.inc(0);
  for (const reason of RETIME_REASONS) metrics.entriesRetimed.inc({ reason }, 0);
  metrics.entriesPushed.inc(0);
  metrics.bytesPushed.inc(0);
  metrics.pushRetries.inc(0);
  for (const reason of WATCH_RESTART_REASONS) metrics.watchRestarts.inc({ reason }, 0);
  for (const reason of RELIST_REASONS) metrics.relists.inc({ reason }, 0);
  for (const result of CHECKPOINT_WRITE_RESULTS) metrics.checkpointWrites.inc({ result }, 0);
  metrics.buildInfo.set({ version: options.version, node_version: process.version }, 1);
  // The event-loop lag histogram samples every 100 ms, not prom-client's default 10 ms: 100
  // wake-ups a second were half of an idle run's CPU (0.2 % of a core against 0.1 %).
  if (options.processMetrics) collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 100 });
  return metrics;
}
