/**
 * What of what a reflector read is handed on: listed items by the list's scope (the initial
 * policy on a first start, else only what changed since the last position), watch items by their
 * type. Everything read and not handed on is counted with its reason and named at debug level.
 */
import type { Logger } from 'pino';
import type { Clock } from '../core/clock.js';
import { statusMessage } from '../kube/request.js';
import type { Metrics, SourceSkipReason } from '../observe/metrics.js';
import { compareResourceVersions, isRawEvent, occurrenceTimeMs, resourceVersionOf } from './event-fields.js';
import type { RawEvent } from './event-fields.js';
import type { ListPage } from './list-pager.js';
import type { InitialPolicy, SourceHandler } from './types.js';
import type { MalformedLine, WatchItem } from './watch-stream.js';

/** What a list ships: the initial policy on a first start, else only what changed since the last position. */
export type ListScope = { readonly kind: 'initial' } | { readonly kind: 'since'; readonly resourceVersion: string; readonly sinceMs: number };

/** What a watch item was; the reflector moves its position on `event` and `bookmark`. */
export type Watched =
  | { readonly kind: 'event'; readonly resourceVersion: string | undefined }
  | { readonly kind: 'bookmark'; readonly resourceVersion: string | undefined; readonly atMs: number }
  /** An in-stream ERROR: 410 (`gone`) or another (`error`, logged). */
  | { readonly kind: 'gone' }
  | { readonly kind: 'error' }
  | { readonly kind: 'ignored' };

export interface HandOverOptions {
  readonly initial: InitialPolicy;
  /** On a relist, events older than the last contact minus this margin are not shipped again. */
  readonly relistMarginMs: number;
}

export interface HandOverDeps {
  readonly handler: SourceHandler;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly clock: Clock;
  /** An event carrying this occurrence time (ms) was received. */
  readonly onEventTime: (ms: number) => void;
}

export class HandOver {
  constructor(
    private readonly stream: string,
    private readonly options: HandOverOptions,
    private readonly deps: HandOverDeps,
  ) {}

  /** Hands a list page's items on, one at a time (each awaited), stopping when `signal` aborts. */
  async listed(page: ListPage, scope: ListScope, signal: AbortSignal): Promise<void> {
    const { items, apiVersion, startedMs } = page;
    for (let i = 0; i < items.length; i++) {
      const raw = items[i];
      items[i] = undefined; // let each handed-over item go
      this.deps.metrics.eventsReceived.inc({ type: 'LISTED' });
      if (!isRawEvent(raw)) {
        this.skipped('not_an_object', raw);
        continue;
      }
      const object: RawEvent = { kind: 'Event', apiVersion, ...raw };
      this.noteEventTime(object);
      const fate = this.listedFate(object, scope);
      if (fate !== 'ship') {
        this.skipped(fate, object, scope.kind === 'since' ? { position: scope.resourceVersion } : { initial: this.options.initial.kind });
        if (fate !== 'unchanged') this.deps.handler.onSkipped?.(this.stream, object);
        continue;
      }
      await this.deps.handler.onItem(this.stream, { type: 'LISTED', object, resourceVersion: undefined, receivedAtMs: startedMs });
      if (signal.aborted) return;
    }
  }

  /** Hands a watch event on (awaited), passes a bookmark's position on, and says what the item was. */
  async watched({ type, object, receivedAtMs }: WatchItem): Promise<Watched> {
    if (type === 'ERROR') {
      const code = (object as { code?: unknown } | null)?.code;
      if (code === 410) return { kind: 'gone' };
      this.deps.logger.warn({ stream: this.stream, status: code, serverMessage: statusMessage(object) }, 'watch sent an error');
      return { kind: 'error' };
    }
    if (!isRawEvent(object)) {
      this.skipped('not_an_object', object, { watchType: type });
      return { kind: 'ignored' };
    }
    const rv = resourceVersionOf(object);
    if (type === 'BOOKMARK') {
      this.deps.metrics.eventsReceived.inc({ type: 'BOOKMARK' });
      if (rv !== undefined) void this.deps.handler.onPosition(this.stream, rv, receivedAtMs);
      return { kind: 'bookmark', resourceVersion: rv, atMs: receivedAtMs };
    }
    if (type !== 'ADDED' && type !== 'MODIFIED' && type !== 'DELETED') {
      this.skipped('unknown_watch_type', object, { watchType: type });
      return { kind: 'ignored' };
    }
    this.deps.metrics.eventsReceived.inc({ type });
    this.noteEventTime(object);
    await this.deps.handler.onItem(this.stream, { type, object, resourceVersion: rv, receivedAtMs });
    return { kind: 'event', resourceVersion: rv };
  }

  /** A watch line that is not a JSON object: counted and logged with its start. */
  notJson(line: MalformedLine): void {
    this.deps.metrics.eventsSkipped.inc({ reason: 'not_json' });
    this.deps.logger.warn({ stream: this.stream, bytes: line.bytes, excerpt: line.excerpt, error: line.error }, 'watch line is not a JSON object; skipped');
  }

  /**
   * Whether a listed event ships. On a relist, its resourceVersion decides: not newer than the
   * position means handled before (`unchanged`); newer means it was written after the position, so
   * it ships whatever time it carries (a series writer reports lastObservedTime minutes late, node
   * clocks drift; the pipeline's recent-id record suppresses a metadata-only change). The time
   * look-back applies only when the two cannot be compared (see compareResourceVersions).
   * `initial_policy` and `before_lookback` count the occurrence as seen (`onSkipped`).
   */
  private listedFate(e: RawEvent, scope: ListScope): 'ship' | SourceSkipReason {
    const fresh = (t: number | undefined, since: number): boolean => t === undefined || t >= since;
    if (scope.kind === 'initial') {
      const initial = this.options.initial;
      if (initial.kind === 'none') return 'initial_policy';
      if (initial.kind === 'all') return 'ship';
      return fresh(occurrenceTimeMs(e), this.deps.clock.now() - initial.maxAgeMs) ? 'ship' : 'initial_policy';
    }
    const rv = resourceVersionOf(e);
    const cmp = rv === undefined ? undefined : compareResourceVersions(rv, scope.resourceVersion);
    if (cmp !== undefined) return cmp <= 0 ? 'unchanged' : 'ship';
    return fresh(occurrenceTimeMs(e), scope.sinceMs - this.options.relistMarginMs) ? 'ship' : 'before_lookback';
  }

  /** Counts an object read and not handed on, and names it at debug level. */
  private skipped(reason: SourceSkipReason, object: unknown, extra: Record<string, unknown> = {}): void {
    this.deps.metrics.eventsSkipped.inc({ reason });
    const log = this.deps.logger;
    if (!log.isLevelEnabled('debug')) return;
    const meta = isRawEvent(object) && isRawEvent(object['metadata']) ? object['metadata'] : undefined;
    log.debug({ stream: this.stream, reason, namespace: meta?.['namespace'], name: meta?.['name'], resourceVersion: meta?.['resourceVersion'], ...extra }, 'event not handed on');
  }

  private noteEventTime(e: RawEvent): void {
    const t = occurrenceTimeMs(e);
    if (t !== undefined) this.deps.onEventTime(t);
  }
}
