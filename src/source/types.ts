/**
 * The source's contract and settings: what a reflector hands over (SourceItem, SourceHandler),
 * where it resumes (StreamStart), and what it is built from (ReflectorOptions, ReflectorDeps).
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { BackoffOptions } from '../core/backoff.js';
import type { Clock, Random } from '../core/clock.js';
import type { Metrics } from '../observe/metrics.js';
import type { RawEvent } from './event-fields.js';

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
  /** The inactivity timeout: a watch silent this long ends (a normal re-watch on a quiet cluster). */
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

/** What the source and each of its reflectors are built with. */
export interface SourceServices {
  readonly kubeConfig: KubeConfig;
  readonly handler: SourceHandler;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly random: Random;
}

export interface ReflectorDeps extends SourceServices {
  /** A page, a watch event or a bookmark arrived. */
  readonly onActivity: () => void;
  /** An event carrying this occurrence time (ms) was received. */
  readonly onEventTime: (ms: number) => void;
  readonly onWatchOpen: (open: boolean) => void;
  /** The API answered 404 for events.k8s.io/v1: the caller decides whether to fall back. */
  readonly onApiNotFound?: (api: EventApi) => EventApi | undefined;
}
