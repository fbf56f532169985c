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
  /** A push failed with a retryable error (429, 5xx, network): the destination is not reachable right now. */
  sinkUnavailable(): void;
  /** Entries are waiting to be sent (true) or the queue is empty (false). */
  sinkPending(pending: boolean): void;
}

export const ignoreProgress: ProgressListener = {
  sourceActivity: () => undefined,
  watchOpen: () => undefined,
  sinkDelivered: () => undefined,
  sinkUnavailable: () => undefined,
  sinkPending: () => undefined,
};
