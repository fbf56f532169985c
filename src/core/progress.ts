/**
 * What the pipeline stages tell the health tracker (src/observe/) about their progress. `/healthz`
 * fails when nothing has progressed for too long; `/readyz` needs a live watch and a reachable Loki.
 * Stages receive one of these as a parameter; `ignoreProgress` is for tests and one-shot commands.
 */
export interface ProgressListener {
  /** A list page, a watch event or a bookmark arrived from the API server. */
  sourceActivity(): void;
  /** A watch stream is open (true) or not (false). */
  watchOpen(open: boolean): void;
  /** The destination accepted a push. */
  sinkDelivered(): void;
  /**
   * A push failed and will be retried (401/403, 404/3xx, 408, 429, 5xx, network, timeout): the
   * destination does not take entries right now. `failure` says why, for `/readyz`.
   */
  sinkUnavailable(failure?: SinkFailure): void;
  /** Entries are waiting to be sent (true) or the queue is empty (false). */
  sinkPending(pending: boolean): void;
}

/** Why pushes fail, as far as `/readyz` tells it. */
export interface SinkFailure {
  /** `misrouted`: 404 or a redirect (the URL does not reach Loki's push API); `auth`: 401/403. */
  readonly cause: 'auth' | 'misrouted' | 'unavailable';
  /** One short line, e.g. `HTTP 404 from http://loki/loki/api/v1/push`. No secrets. */
  readonly summary: string;
}

export const ignoreProgress: ProgressListener = {
  sourceActivity: () => undefined,
  watchOpen: () => undefined,
  sinkDelivered: () => undefined,
  sinkUnavailable: () => undefined,
  sinkPending: () => undefined,
};
