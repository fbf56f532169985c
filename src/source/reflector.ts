/**
 * One list-then-watch loop over one events collection (cluster-wide or one namespace), in the
 * manner of client-go's reflector: list in pages to get a resourceVersion (ListPager), watch from
 * it (WatchStream), re-watch from the last resourceVersion seen, relist when it is gone, back off
 * on failures. Holds no cache of Events: every listed item and watch event is handed on
 * (HandOver) and forgotten.
 */
import { Backoff } from '../core/backoff.js';
import type { RelistReason, WatchRestartReason } from '../observe/metrics.js';
import { KubeRequestError } from './errors.js';
import type { Failure } from './failure.js';
import { HandOver } from './hand-over.js';
import type { ListScope } from './hand-over.js';
import { ListPager } from './list-pager.js';
import type { ListEnd } from './list-pager.js';
import type { EventApi, ReflectorDeps, ReflectorOptions, StreamStart } from './types.js';
import { WatchStream, watchPathAndQuery } from './watch-stream.js';
import type { WatchEnd } from './watch-stream.js';

export type { EventApi, InitialPolicy, ReflectorDeps, ReflectorOptions, SourceHandler, SourceItem, StreamStart } from './types.js';

/**
 * Floor under the stall watchdog and the inactivity timer. The config refuses such small values;
 * this is the second line of defence: armed with 0, a watch ends at once and is re-opened at
 * once, hundreds of times a second.
 */
const MIN_WATCH_TIMER_MS = 100;

/** A watch's end; `closed` also says how much it delivered and how long it lasted (a short watch?). */
type WatchOutcome = Exclude<WatchEnd, { kind: 'closed' }> | { readonly kind: 'closed'; readonly events: number; readonly durationMs: number; readonly endedAtMs: number };

export class Reflector {
  private api: EventApi;
  private resourceVersion: string | undefined;
  /** Wall time up to which the stream is known to be complete. */
  private lastContactMs: number;
  private readonly backoff: Backoff;
  private readonly pager: ListPager;
  private readonly handOver: HandOver;
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
    this.resourceVersion = start?.resourceVersion;
    this.lastContactMs = start?.sinceMs ?? deps.clock.now();
    this.backoff = new Backoff(options.backoff, deps.clock, deps.random);
    this.pager = new ListPager(options, { kubeConfig: deps.kubeConfig, clock: deps.clock, logger: deps.logger, stream });
    this.handOver = new HandOver(stream, options, deps);
  }

  /** Lists and watches until `signal` aborts; never rejects for API errors (they are retried). */
  async run(signal: AbortSignal): Promise<void> {
    const log = this.deps.logger;
    let relist: RelistReason | undefined = this.resourceVersion === undefined ? 'initial' : undefined;
    let scope: ListScope = this.sinceScope();
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
          } else restart(this.healthy('server_closed', end.endedAtMs));
          break;
        case 'timeout':
          // The inactivity timeout: on a quiet cluster without bookmarks this is normal.
          restart(this.healthy('timeout', end.endedAtMs));
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

  /** A watch that ended normally: the stream was complete when it ended. */
  private healthy(reason: 'server_closed' | 'timeout', endedAtMs: number): WatchRestartReason {
    this.shortWatches = 0;
    this.gonesInARow = 0;
    this.lastContactMs = endedAtMs;
    return reason;
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

  /** A paged list, each page handed on before the next is asked for. */
  private list(scope: ListScope, signal: AbortSignal): Promise<ListEnd> {
    const defaultApiVersion = this.api === 'core/v1' ? 'v1' : 'events.k8s.io/v1';
    return this.pager.list(
      this.path(),
      defaultApiVersion,
      async (page) => {
        this.deps.onActivity();
        await this.handOver.listed(page, scope, signal);
      },
      signal,
    );
  }

  /** One watch from `rv`, until the server ends it, it fails, stalls, or `signal` aborts. */
  private async watch(rv: string, signal: AbortSignal): Promise<WatchOutcome> {
    if (signal.aborted) return { kind: 'aborted' };
    const started = this.deps.clock.now();
    // Silence alone ends the watch through the inactivity timer (a normal re-watch, never later
    // than the stall timeout); the watchdog fires only when bytes keep coming without events.
    const stallMs = this.stallTimeoutMs();
    const { min, max } = this.options.watchTimeoutSeconds;
    const timeoutSeconds = Math.floor(min + this.deps.random() * (max - min + 1));
    const stream = new WatchStream(
      {
        pathAndQuery: watchPathAndQuery(this.path(), rv, this.options.fieldSelector, timeoutSeconds),
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
        onMalformed: (line) => this.handOver.notJson(line),
      },
      signal,
    );
    let events = 0;
    try {
      for (;;) {
        const item = await stream.next();
        if (item === undefined) break;
        this.deps.onActivity();
        const watched = await this.handOver.watched(item);
        if (watched.kind === 'gone') return signal.aborted ? { kind: 'aborted' } : { kind: 'gone' };
        if (watched.kind === 'error') return { kind: 'error', err: new KubeRequestError('in-stream error event', undefined) };
        if (watched.kind === 'bookmark') {
          events += 1;
          if (watched.resourceVersion !== undefined) {
            this.resourceVersion = watched.resourceVersion;
            this.lastContactMs = watched.atMs;
          }
        } else if (watched.kind === 'event') {
          events += 1;
          if (watched.resourceVersion !== undefined) this.resourceVersion = watched.resourceVersion;
          this.shortWatches = 0;
          this.gonesInARow = 0;
        }
      }
    } finally {
      stream.close();
    }
    const end = stream.end;
    return end.kind === 'closed' ? { ...end, events, durationMs: end.endedAtMs - started } : end;
  }
}
