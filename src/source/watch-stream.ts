/**
 * One watch request, read the way client-go's stream watcher reads it: the chunked body is cut
 * into lines on bytes, each line decoded and `JSON.parse`d exactly once, and its byte length kept
 * as what reading it ahead costs. (client-node's `Watch` went through readline and string lines,
 * and the read-ahead bound then measured every object again with JSON.stringify.)
 *
 * Items queue up for the reflector to pull. A watch cannot be paused, so when the queue runs too
 * far ahead of its consumer the watch is cut (`overflow`) and resumed later from what was handed
 * over. An inactivity timer ends a silent watch (a normal re-watch on a quiet cluster), and a
 * stall watchdog cuts one that keeps sending bytes without events.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { request } from 'undici';
import type { Dispatcher } from 'undici';
import type { Clock } from '../core/clock.js';
import { authorizedRequest, KubeUnreachableError } from '../kube/request.js';
import { failureOfStatus } from './failure.js';
import type { Failure } from './failure.js';

export interface WatchItem {
  /** The watch event type as sent (ADDED, MODIFIED, DELETED, BOOKMARK, ERROR, or anything else). */
  readonly type: unknown;
  readonly object: unknown;
  /** When the chunk carrying the line was read. */
  readonly receivedAtMs: number;
  /** Bytes of the line: what holding it in the read-ahead queue costs, within a small factor. */
  readonly bytes: number;
}

/** A line that is not a JSON object, skipped. */
export interface MalformedLine {
  readonly bytes: number;
  /** Its start, for the log. */
  readonly excerpt: string;
  readonly error: string;
}

/**
 * `closed`: the server ended the stream. `timeout`: it stayed silent for the inactivity time after
 * answering 200 (an unanswered request is an `error`). `endedAtMs`: when the end was seen.
 */
export type WatchEnd =
  | { readonly kind: 'closed'; readonly endedAtMs: number }
  | { readonly kind: 'timeout'; readonly endedAtMs: number }
  | { readonly kind: 'stall' }
  | { readonly kind: 'overflow' }
  | { readonly kind: 'aborted' }
  | Failure;

export interface WatchStreamOptions {
  /** Path and query of the watch request, `watch=true` included. */
  readonly pathAndQuery: string;
  /** The request ends when no byte arrives for this long (before the answer too). */
  readonly inactivityMs: number;
  /** Cut when no event arrives for this long (bytes may still trickle). */
  readonly stallMs: number;
  readonly maxQueuedEvents: number;
  /** At least one item is always read ahead. */
  readonly maxQueuedBytes: number;
}

export interface WatchStreamDeps {
  readonly kubeConfig: KubeConfig;
  readonly clock: Clock;
  /** The server answered 200: the watch is open. */
  readonly onOpen: () => void;
  readonly onMalformed: (line: MalformedLine) => void;
}

/** Bounds what an error answer's body is read for its Status message. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;
const NEWLINE = 0x0a;
const EXCERPT_CHARS = 120;

/** A watch request from `rv` (none: from now), with bookmarks and the server's own end after `timeoutSeconds`. */
export function watchPathAndQuery(path: string, rv: string, fieldSelector: string | undefined, timeoutSeconds: number): string {
  const query = new URLSearchParams({ watch: 'true', allowWatchBookmarks: 'true', timeoutSeconds: String(timeoutSeconds) });
  if (rv !== '') query.set('resourceVersion', rv);
  if (fieldSelector) query.set('fieldSelector', fieldSelector);
  return `${path}?${query.toString()}`;
}

export class WatchStream {
  private readonly queue: (WatchItem | undefined)[] = [];
  private head = 0;
  private queuedBytes = 0;
  /** Bytes of a line whose newline has not arrived yet. */
  private partial: Buffer[] = [];
  private outcome: WatchEnd | undefined;
  private opened = false;
  private wake: (() => void) | undefined;
  private readonly controller = new AbortController();
  private inactivity: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private readonly onAbort = (): void => this.finish({ kind: 'aborted' });

  constructor(
    private readonly options: WatchStreamOptions,
    private readonly deps: WatchStreamDeps,
    private readonly signal: AbortSignal,
  ) {
    // A listener added to an aborted signal never fires: the request would be held open.
    if (signal.aborted) this.finish({ kind: 'aborted' });
    else signal.addEventListener('abort', this.onAbort, { once: true });
    void this.start();
  }

  /** The next item, or undefined once the watch is over (then see `end`). */
  async next(): Promise<WatchItem | undefined> {
    for (;;) {
      if (this.signal.aborted) return undefined;
      // What a stalled connection sent is dropped: the next watch resumes from what was handed over.
      if (this.head < this.queue.length && this.outcome?.kind !== 'stall') {
        const item = this.queue[this.head]!;
        this.queue[this.head++] = undefined;
        if (this.head === this.queue.length) {
          this.queue.length = 0;
          this.head = 0;
        }
        this.queuedBytes -= item.bytes;
        return item;
      }
      if (this.outcome !== undefined) return undefined;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  /** Why the watch ended; meaningful once `next` returned undefined. */
  get end(): WatchEnd {
    return this.signal.aborted ? { kind: 'aborted' } : (this.outcome ?? { kind: 'aborted' });
  }

  /** Ends the request and its timers (always call it, also after the end). */
  close(): void {
    this.finish({ kind: 'aborted' });
    this.signal.removeEventListener('abort', this.onAbort);
  }

  private async start(): Promise<void> {
    let answer: Dispatcher.ResponseData;
    try {
      const auth = await authorizedRequest(this.deps.kubeConfig, this.options.pathAndQuery);
      if (this.outcome !== undefined) return;
      // Armed once the credentials are ready (an exec plugin may take a while), as client-node
      // did; unref'd: it guards a request, it does not keep the process alive.
      this.inactivity = setTimeout(() => this.timedOut(), this.options.inactivityMs).unref();
      answer = await request(auth.url, {
        method: 'GET',
        headers: { ...auth.headers, accept: 'application/json' },
        dispatcher: auth.dispatcher,
        signal: this.controller.signal,
      });
    } catch (err) {
      this.finish({ kind: 'error', err: new KubeUnreachableError('cannot watch the API server', { cause: err }) });
      return;
    }
    const body = answer.body;
    if (this.outcome !== undefined) {
      body.destroy();
      return;
    }
    // The answer came: from here on the timer measures silence between bytes.
    this.inactivity?.refresh();
    if (answer.statusCode !== 200) {
      this.finish(failureOfStatus(answer.statusCode, await errorBody(body)));
      return;
    }
    this.opened = true;
    // Armed when the watch opens (before, the inactivity timer guards the request), on real time:
    // it guards a live socket. Its grace keeps it from racing the inactivity timer on silence.
    const stallMs = this.options.stallMs;
    this.watchdog = setTimeout(() => this.finish({ kind: 'stall' }), stallMs + Math.min(1_000, stallMs));
    this.deps.onOpen();
    body.on('data', (chunk: Buffer) => this.onChunk(chunk));
    body.on('end', () => {
      if (this.partial.length > 0) this.onLine(Buffer.concat(this.partial), this.deps.clock.now());
      this.partial = [];
      this.finish({ kind: 'closed', endedAtMs: this.deps.clock.now() });
    });
    body.on('error', (err) => this.finish({ kind: 'error', err }));
  }

  private timedOut(): void {
    // Silence after the answer is a quiet cluster; no answer at all is a failure (backed off).
    if (this.opened) this.finish({ kind: 'timeout', endedAtMs: this.deps.clock.now() });
    else this.finish({ kind: 'error', err: new KubeUnreachableError(`the API server did not answer the watch within ${this.options.inactivityMs} ms`) });
  }

  /** The first end wins; an abort through `signal` overrides it (see `end`). */
  private finish(end: WatchEnd): void {
    if (this.outcome === undefined) this.outcome = end;
    clearTimeout(this.inactivity);
    clearTimeout(this.watchdog);
    this.controller.abort();
    this.poke();
  }

  private poke(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private onChunk(chunk: Buffer): void {
    this.inactivity?.refresh();
    if (this.outcome !== undefined) return;
    const now = this.deps.clock.now();
    const queued = this.queue.length;
    let start = 0;
    let nl = chunk.indexOf(NEWLINE);
    if (nl === -1) {
      this.partial.push(chunk);
      return;
    }
    if (this.partial.length > 0) {
      this.partial.push(chunk.subarray(0, nl));
      const line = Buffer.concat(this.partial);
      this.partial = [];
      this.onLine(line, now);
      start = nl + 1;
      nl = chunk.indexOf(NEWLINE, start);
    }
    while (nl !== -1 && this.outcome === undefined) {
      this.onLine(chunk.subarray(start, nl), now);
      start = nl + 1;
      nl = chunk.indexOf(NEWLINE, start);
    }
    if (this.outcome === undefined && start < chunk.length) this.partial.push(chunk.subarray(start));
    if (this.queue.length !== queued) {
      this.watchdog?.refresh();
      this.poke();
    }
  }

  private onLine(line: Buffer, now: number): void {
    if (isBlank(line)) return; // keep-alive newlines carry nothing
    let value: unknown;
    try {
      value = JSON.parse(line.toString('utf8'));
    } catch (err) {
      this.malformed(line, err instanceof Error ? err.message : String(err));
      return;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.malformed(line, 'not a JSON object');
      return;
    }
    const { type, object } = value as { type?: unknown; object?: unknown };
    const bytes = line.length;
    this.queue.push({ type, object, receivedAtMs: now, bytes });
    this.queuedBytes += bytes;
    const queued = this.queue.length - this.head;
    if (queued > 1 && (queued > this.options.maxQueuedEvents || this.queuedBytes > this.options.maxQueuedBytes)) this.finish({ kind: 'overflow' });
  }

  private malformed(line: Buffer, error: string): void {
    this.deps.onMalformed({ bytes: line.length, excerpt: line.toString('utf8', 0, Math.min(line.length, EXCERPT_CHARS * 4)).slice(0, EXCERPT_CHARS), error });
  }
}

function isBlank(line: Buffer): boolean {
  for (let i = 0; i < line.length; i++) {
    const b = line[i];
    if (b !== 0x20 && b !== 0x0d && b !== 0x09) return false;
  }
  return true;
}

/** The parsed body of an error answer (a Kubernetes Status), read up to a bound; undefined if it is not JSON. */
async function errorBody(body: Dispatcher.ResponseData['body']): Promise<unknown> {
  const parts: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      parts.push(chunk);
      size += chunk.length;
      if (size >= MAX_ERROR_BODY_BYTES) break;
    }
    return JSON.parse(Buffer.concat(parts).toString('utf8')) as unknown;
  } catch {
    return undefined;
  } finally {
    body.destroy();
  }
}
