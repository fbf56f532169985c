/**
 * One list-then-watch loop over one events collection (cluster-wide or one namespace), in the
 * manner of client-go's reflector: list in pages to get a resourceVersion, watch from it, re-watch
 * from the last resourceVersion seen, relist when it is gone. Holds no cache of Events: every
 * listed page and every watch event is handed to the handler and forgotten.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Clock, Random } from '../core/clock.js';
import type { Metrics, RelistReason, SourceSkipReason, WatchRestartReason } from '../observe/metrics.js';
import { Backoff } from './backoff.js';
import type { BackoffOptions } from './backoff.js';
import { KubeRequestError } from './errors.js';
import { compareResourceVersions, isRawEvent, occurrenceTimeMs, resourceVersionOf } from './event-fields.js';
import type { RawEvent } from './event-fields.js';
import { kubeRequest, statusMessage } from '../kube/request.js';
import type { Failure } from './failure.js';
import { WatchStream } from './watch-stream.js';
import type { WatchEnd, WatchItem } from './watch-stream.js';

export type EventApi = 'core/v1' | 'events.k8s.io/v1';

/** What a first start (no checkpoint) ships of the events that already exist. */
export type InitialPolicy = { readonly kind: 'none' } | { readonly kind: 'all' } | { readonly kind: 'maxAge'; readonly maxAgeMs: number };

export interface SourceItem {
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'LISTED';
  /** The Event exactly as the API server sent it (listed items get `kind`/`apiVersion` added, as watch objects have them). */
  readonly object: RawEvent;
  /** The stream position once this item is handled; undefined for listed items (a list's position comes at its end). */
  readonly resourceVersion: string | undefined;
  /**
   * Wall time the item was read from the API server (for a listed item: when the list began). A
   * slow consumer may get it much later; positions and look-back times must use this one.
   */
  readonly receivedAtMs: number;
}

/** Where a reflector sends what it reads. Calls are sequential; the reflector awaits `onItem` (backpressure). */
export interface SourceHandler {
  onItem(stream: string, item: SourceItem): Promise<void>;
  /**
   * Everything of `stream` up to `resourceVersion` has been handed over (end of a list, a
   * bookmark); `atMs` is when the API server stood there (a list's start, a bookmark's arrival).
   * At the end of a list the reflector awaits it before watching (the handler may still be
   * shipping the list, e.g. sorted by time).
   */
  onPosition(stream: string, resourceVersion: string, atMs: number): void | Promise<void>;
  /**
   * A listed event that is not shipped (left out by the initial policy, or older than a relist
   * looks back): its current occurrence counts as seen, so only a new one ships later. Called
   * before the list's `onPosition`. Events unchanged since the last position are not passed here.
   */
  onSkipped?(stream: string, object: RawEvent): void;
}

/** Where to resume a stream: a checkpointed resourceVersion and the wall time it was reached. */
export interface StreamStart {
  readonly resourceVersion: string;
  readonly sinceMs: number;
}

export interface ReflectorOptions {
  readonly api: EventApi;
  /** One namespace, or undefined for all. */
  readonly namespace: string | undefined;
  readonly fieldSelector: string | undefined;
  readonly pageSize: number;
  readonly initial: InitialPolicy;
  /** The watch's `timeoutSeconds` is drawn from this range, so many shippers do not re-watch in step. */
  readonly watchTimeoutSeconds: { readonly min: number; readonly max: number };
  /** client-node's inactivity timeout: a watch silent this long ends (a normal re-watch on a quiet cluster). */
  readonly requestTimeoutMs: number;
  /** A watch that delivers no event or bookmark this long (while bytes may still trickle) is aborted. */
  readonly stallTimeoutMs: number;
  readonly listTimeoutMs: number;
  /** A watch that ends on its own sooner than this without delivering anything is "short". */
  readonly shortWatchMs: number;
  /** After this many short watches in a row, say so once in the log. */
  readonly shortWatchLimit: number;
  /** On a relist, events older than the last contact minus this margin are not shipped again. */
  readonly relistMarginMs: number;
  /** Delay between tries while the API server answers 401/403. */
  readonly authRetryMs: number;
  readonly backoff: BackoffOptions;
  /** Watch events read ahead of the handler before the watch is cut and resumed later. */
  readonly maxQueuedEvents: number;
  /**
   * The same bound in bytes (JSON size of the queued objects): a few 1 MB messages must not pile
   * up gigabytes behind a slow consumer. At least one event is always read ahead.
   */
  readonly maxQueuedBytes: number;
  /**
   * A list page larger than this makes the next pages ask for proportionally fewer items (down to
   * one); small pages let the limit grow back to `pageSize`.
   */
  readonly maxPageBytes: number;
}

export interface ReflectorDeps {
  readonly kubeConfig: KubeConfig;
  readonly handler: SourceHandler;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly random: Random;
  /** A page, a watch event or a bookmark arrived. */
  readonly onActivity: () => void;
  /** An event carrying this occurrence time (ms) was received. */
  readonly onEventTime: (ms: number) => void;
  readonly onWatchOpen: (open: boolean) => void;
  /** The API answered 404 for events.k8s.io/v1: the caller decides whether to fall back. */
  readonly onApiNotFound?: (api: EventApi) => EventApi | undefined;
}

/**
 * Floor under the stall watchdog and client-node's inactivity timer. The config refuses such small
 * values; this is the second line of defence: armed with 0, a watch ends at once and is re-opened
 * at once, hundreds of times a second.
 */
const MIN_WATCH_TIMER_MS = 100;

/** `startedMs`: when the list's first page was asked for, the moment its snapshot stands for. */
type ListEnd = { readonly kind: 'ok'; readonly resourceVersion: string; readonly startedMs: number } | { readonly kind: 'continue_expired' } | { readonly kind: 'aborted' } | Failure;

/** A watch's end; `closed` also says how much it delivered and how long it lasted (a short watch?). */
type WatchOutcome = Exclude<WatchEnd, { kind: 'closed' }> | { readonly kind: 'closed'; readonly events: number; readonly durationMs: number; readonly endedAtMs: number };

/** What a relist ships: the initial policy on first start, else only what changed since the last position. */
type ListScope = { readonly kind: 'initial' } | { readonly kind: 'since'; readonly resourceVersion: string; readonly sinceMs: number };

export class Reflector {
  private api: EventApi;
  private resourceVersion: string | undefined;
  /** Wall time up to which the stream is known to be complete. */
  private lastContactMs: number;
  private readonly backoff: Backoff;
  /** The list `limit`: `pageSize`, less while pages come too large (see `maxPageBytes`). */
  private pageLimit: number;
  private shortWatches = 0;
  private gonesInARow = 0;
  private expiredInARow = 0;

  constructor(
    readonly stream: string,
    private readonly options: ReflectorOptions,
    private readonly deps: ReflectorDeps,
    start: StreamStart | undefined,
  ) {
    this.api = options.api;
    this.pageLimit = Math.max(1, options.pageSize);
    this.resourceVersion = start?.resourceVersion;
    this.lastContactMs = start?.sinceMs ?? deps.clock.now();
    this.backoff = new Backoff(options.backoff, deps.clock, deps.random);
  }

  /** Lists and watches until `signal` aborts; never rejects for API errors (they are retried). */
  async run(signal: AbortSignal): Promise<void> {
    const log = this.deps.logger;
    let relist: RelistReason | undefined = this.resourceVersion === undefined ? 'initial' : undefined;
    let scope: ListScope = this.resourceVersion === undefined ? { kind: 'initial' } : { kind: 'since', resourceVersion: this.resourceVersion, sinceMs: this.lastContactMs };
    while (!signal.aborted) {
      if (relist !== undefined) {
        this.deps.metrics.relists.inc({ reason: relist });
        log.info({ stream: this.stream, reason: relist, api: this.api }, 'listing events');
        const end = await this.list(scope, signal);
        if (end.kind === 'aborted') return;
        if (end.kind === 'ok') {
          this.resourceVersion = end.resourceVersion;
          // Not the end of the list: a slow consumer can make paging take minutes, and what
          // happened meanwhile comes after the snapshot; a relist must look back that far.
          this.lastContactMs = end.startedMs;
          await this.deps.handler.onPosition(this.stream, end.resourceVersion, end.startedMs);
          relist = undefined;
          this.expiredInARow = 0;
        } else if (end.kind === 'continue_expired') {
          relist = 'continue_expired';
          // Once is normal (paging slower than compaction); again and again must not loop hot.
          this.expiredInARow += 1;
          if (this.expiredInARow > 1) await this.sleep(this.backoff.next(), signal);
          continue;
        } else {
          relist = (await this.failed(end, 'list', signal)) ?? 'error';
          continue;
        }
      }

      const rv = this.resourceVersion ?? '';
      const end = await this.watch(rv, signal);
      this.deps.onWatchOpen(false);
      if (end.kind === 'aborted') return;
      const restart = (reason: WatchRestartReason): void => {
        this.deps.metrics.watchRestarts.inc({ reason });
        log.debug({ stream: this.stream, reason, resourceVersion: this.resourceVersion }, 'watching again');
      };
      switch (end.kind) {
        case 'closed':
          if (end.events === 0 && end.durationMs < this.options.shortWatchMs) {
            // Watch again from the same position, backing off: the server still holds the history
            // since it, while a relist would hold only each Event's newest state and lose the
            // occurrences in between. Only a 410 (history gone) makes a relist.
            this.shortWatches += 1;
            restart('short_watch');
            if (this.shortWatches === this.options.shortWatchLimit) {
              log.warn({ stream: this.stream, shortWatches: this.shortWatches }, 'watch keeps ending at once; still watching from the last position');
            }
            await this.sleep(this.backoff.next(), signal);
          } else {
            this.shortWatches = 0;
            this.gonesInARow = 0;
            this.lastContactMs = end.endedAtMs;
            restart('server_closed');
          }
          break;
        case 'timeout':
          // client-node's inactivity timeout: on a quiet cluster without bookmarks this is normal.
          this.shortWatches = 0;
          this.gonesInARow = 0;
          this.lastContactMs = end.endedAtMs;
          restart('timeout');
          break;
        case 'stall': {
          // Backed off like an error: a server or proxy that keeps stalling is not hit again at once.
          const delay = this.backoff.next();
          log.warn({ stream: this.stream, stallTimeoutMs: this.stallTimeoutMs(), retryInMs: delay }, 'watch stalled; watching again');
          restart('stall');
          await this.sleep(delay, signal);
          break;
        }
        case 'overflow':
          // The handler is slower than the stream: cut it, and resume from what was handed over.
          log.debug({ stream: this.stream }, 'watch read ahead too far; resuming later');
          restart('backpressure');
          break;
        case 'gone':
          log.info({ stream: this.stream, resourceVersion: rv }, 'resourceVersion gone; listing again');
          relist = 'gone';
          scope = this.sinceScope();
          // Gone again right after a fresh list means something is wrong: do not loop hot.
          this.gonesInARow += 1;
          if (this.gonesInARow > 1) await this.sleep(this.backoff.next(), signal);
          break;
        default: {
          const next = await this.failed(end, 'watch', signal);
          if (next !== undefined) {
            relist = next;
            scope = this.sinceScope();
          } else restart('error');
        }
      }
    }
  }

  private stallTimeoutMs(): number {
    return Math.max(MIN_WATCH_TIMER_MS, this.options.stallTimeoutMs);
  }

  private sinceScope(): ListScope {
    return this.resourceVersion === undefined ? { kind: 'initial' } : { kind: 'since', resourceVersion: this.resourceVersion, sinceMs: this.lastContactMs };
  }

  /** Logs and waits after a failed list or watch; returns a relist reason when one is needed. */
  private async failed(f: Failure, during: 'list' | 'watch', signal: AbortSignal): Promise<RelistReason | undefined> {
    const log = this.deps.logger;
    switch (f.kind) {
      case 'gone':
        // A list is not tied to a resourceVersion, so a 410 to it will not cure itself by
        // listing again at once (a proxy or a broken server): back off, as for any error.
        if (during === 'list') await this.sleep(this.backoff.next(), signal);
        return 'gone';
      case 'not_found': {
        const next = this.deps.onApiNotFound?.(this.api);
        if (next !== undefined && next !== this.api) {
          log.warn({ stream: this.stream, api: this.api, fallback: next }, 'events API not served; falling back');
          this.api = next;
          return during === 'list' ? 'error' : undefined;
        }
        log.error({ stream: this.stream, api: this.api, status: 404 }, 'events API not found');
        await this.sleep(this.backoff.next(), signal);
        return undefined;
      }
      case 'auth': {
        const group = this.api === 'core/v1' ? '""' : 'events.k8s.io';
        const where = this.options.namespace === undefined ? 'cluster-wide' : `in namespace ${this.options.namespace}`;
        log.error(
          { stream: this.stream, status: f.status, serverMessage: f.message, needs: `list and watch on events (apiGroup ${group}) ${where}`, retryInMs: this.options.authRetryMs },
          f.status === 401 ? 'API server rejected the credentials' : 'missing permission to read events',
        );
        await this.sleep(this.options.authRetryMs, signal);
        return undefined;
      }
      case 'invalid': {
        // Retrying soon cannot help; retrying slowly picks up a fixed server or proxy.
        const selector = this.options.fieldSelector;
        log.error(
          {
            stream: this.stream,
            during,
            status: 400,
            serverMessage: f.message,
            fieldSelector: selector,
            hint: selector
              ? 'the API server indexes only some Event fields; test the selector with: kube-event-shipper check --field-selector SELECTOR'
              : 'test the same options with: kube-event-shipper check',
            retryInMs: this.options.authRetryMs,
          },
          'API server refused the request as invalid; check the configuration',
        );
        await this.sleep(this.options.authRetryMs, signal);
        return undefined;
      }
      case 'error': {
        const delay = this.backoff.next();
        log.warn({ stream: this.stream, during, status: f.status, err: f.err, retryInMs: delay }, 'API server request failed; retrying');
        await this.sleep(delay, signal);
        return undefined;
      }
    }
  }

  private async sleep(ms: number, signal: AbortSignal): Promise<void> {
    try {
      await this.deps.clock.sleep(ms, signal);
    } catch {
      // aborted: the loop checks the signal
    }
  }

  private path(): string {
    const ns = this.options.namespace;
    const base = this.api === 'core/v1' ? '/api/v1' : '/apis/events.k8s.io/v1';
    return ns === undefined ? `${base}/events` : `${base}/namespaces/${encodeURIComponent(ns)}/events`;
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

  /** A paged list; hands each page's items over before asking for the next (one page in memory). */
  private async list(scope: ListScope, signal: AbortSignal): Promise<ListEnd> {
    const startedMs = this.deps.clock.now();
    let token: string | undefined;
    for (;;) {
      const query = new URLSearchParams({ limit: String(this.pageLimit) });
      if (token !== undefined) query.set('continue', token);
      if (this.options.fieldSelector) query.set('fieldSelector', this.options.fieldSelector);
      let res;
      try {
        res = await kubeRequest(this.deps.kubeConfig, `${this.path()}?${query.toString()}`, { signal, timeoutMs: this.options.listTimeoutMs });
      } catch (err) {
        if (signal.aborted) return { kind: 'aborted' };
        return { kind: 'error', err };
      }
      if (res.status === 410) return token !== undefined ? { kind: 'continue_expired' } : { kind: 'gone' };
      if (res.status === 401 || res.status === 403) return { kind: 'auth', status: res.status, message: statusMessage(res.body) };
      if (res.status === 404) return { kind: 'not_found' };
      if (res.status === 400 && token === undefined) return { kind: 'invalid', message: statusMessage(res.body) };
      if (res.status !== 200) return { kind: 'error', status: res.status, err: new KubeRequestError(statusMessage(res.body) ?? `HTTP ${res.status}`, res.status) };
      const page = res.body as { apiVersion?: unknown; metadata?: { resourceVersion?: unknown; continue?: unknown }; items?: unknown } | undefined;
      if (!page || !Array.isArray(page.items) || typeof page.metadata?.resourceVersion !== 'string') {
        return { kind: 'error', status: 200, err: new KubeRequestError('list answer is not an EventList', 200) };
      }
      this.deps.onActivity();
      const apiVersion = typeof page.apiVersion === 'string' ? page.apiVersion : this.api === 'core/v1' ? 'v1' : 'events.k8s.io/v1';
      const items = page.items as unknown[];
      this.adaptPageLimit(items.length, res.bodyLength);
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
        if (signal.aborted) return { kind: 'aborted' };
      }
      const next = page.metadata.continue;
      if (typeof next !== 'string' || next === '') return { kind: 'ok', resourceVersion: page.metadata.resourceVersion, startedMs };
      token = next;
    }
  }

  /** Sizes the next page so that one page stays near `maxPageBytes` in memory. */
  private adaptPageLimit(items: number, bytes: number): void {
    const budget = Math.max(1, this.options.maxPageBytes);
    const before = this.pageLimit;
    if (bytes > budget && items > 1) this.pageLimit = Math.max(1, Math.floor((items * budget) / bytes));
    else if (bytes * 2 < budget) this.pageLimit = Math.min(Math.max(1, this.options.pageSize), this.pageLimit * 2);
    if (this.pageLimit < before) this.deps.logger.debug({ stream: this.stream, pageBytes: bytes, items, limit: this.pageLimit }, 'list page too large; asking for fewer items');
  }

  private noteEventTime(e: RawEvent): void {
    const t = occurrenceTimeMs(e);
    if (t !== undefined) this.deps.onEventTime(t);
  }

  /** One watch from `rv`, until the server ends it, it fails, stalls, or `signal` aborts. */
  private async watch(rv: string, signal: AbortSignal): Promise<WatchOutcome> {
    if (signal.aborted) return { kind: 'aborted' };
    const started = this.deps.clock.now();
    // Silence alone ends the watch through the inactivity timer (a normal re-watch, never later
    // than the stall timeout); the watchdog fires only when bytes keep coming without events.
    const stallMs = this.stallTimeoutMs();
    const { min, max } = this.options.watchTimeoutSeconds;
    const query = new URLSearchParams({ watch: 'true', allowWatchBookmarks: 'true', timeoutSeconds: String(Math.floor(min + this.deps.random() * (max - min + 1))) });
    if (rv !== '') query.set('resourceVersion', rv);
    if (this.options.fieldSelector) query.set('fieldSelector', this.options.fieldSelector);
    const stream = new WatchStream(
      {
        pathAndQuery: `${this.path()}?${query.toString()}`,
        inactivityMs: Math.max(MIN_WATCH_TIMER_MS, Math.min(this.options.requestTimeoutMs, stallMs)),
        stallMs,
        maxQueuedEvents: this.options.maxQueuedEvents,
        maxQueuedBytes: this.options.maxQueuedBytes,
      },
      {
        kubeConfig: this.deps.kubeConfig,
        clock: this.deps.clock,
        onOpen: () => {
          // An open watch is progress too: a quiet cluster may send nothing for a long time.
          this.deps.onActivity();
          this.deps.onWatchOpen(true);
        },
        onMalformed: (line) => {
          this.deps.metrics.eventsSkipped.inc({ reason: 'not_json' });
          this.deps.logger.warn({ stream: this.stream, bytes: line.bytes, excerpt: line.excerpt, error: line.error }, 'watch line is not a JSON object; skipped');
        },
      },
      signal,
    );
    let events = 0;
    try {
      for (;;) {
        const item = await stream.next();
        if (item === undefined) break;
        const handled = await this.handleWatchItem(item);
        if (handled === 'gone') return signal.aborted ? { kind: 'aborted' } : { kind: 'gone' };
        if (handled === 'error') return { kind: 'error', err: new KubeRequestError('in-stream error event', undefined) };
        if (handled === 'event' || handled === 'bookmark') events += 1;
      }
    } finally {
      stream.close();
    }
    const end = stream.end;
    return end.kind === 'closed' ? { ...end, events, durationMs: end.endedAtMs - started } : end;
  }

  private async handleWatchItem({ type, object, receivedAtMs }: WatchItem): Promise<'event' | 'bookmark' | 'gone' | 'error' | 'ignored'> {
    this.deps.onActivity();
    if (type === 'ERROR') {
      const code = (object as { code?: unknown } | null)?.code;
      if (code === 410) return 'gone';
      this.deps.logger.warn({ stream: this.stream, status: code, serverMessage: statusMessage(object) }, 'watch sent an error');
      return 'error';
    }
    if (!isRawEvent(object)) {
      this.skipped('not_an_object', object, { watchType: type });
      return 'ignored';
    }
    const rv = resourceVersionOf(object);
    if (type === 'BOOKMARK') {
      this.deps.metrics.eventsReceived.inc({ type: 'BOOKMARK' });
      if (rv !== undefined) {
        this.resourceVersion = rv;
        this.lastContactMs = receivedAtMs;
        void this.deps.handler.onPosition(this.stream, rv, receivedAtMs);
      }
      return 'bookmark';
    }
    if (type !== 'ADDED' && type !== 'MODIFIED' && type !== 'DELETED') {
      this.skipped('unknown_watch_type', object, { watchType: type });
      return 'ignored';
    }
    this.deps.metrics.eventsReceived.inc({ type });
    this.noteEventTime(object);
    await this.deps.handler.onItem(this.stream, { type, object, resourceVersion: rv, receivedAtMs });
    if (rv !== undefined) this.resourceVersion = rv;
    this.shortWatches = 0;
    this.gonesInARow = 0;
    return 'event';
  }
}
