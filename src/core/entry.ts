/**
 * The contract between the pipeline stages: an Entry is what the transform makes of one event
 * occurrence and what a sink delivers; an outcome is what the sink reports back for it.
 */

/** Stream labels or structured metadata: name → value. */
export type LabelMap = Readonly<Record<string, string>>;

/** One Loki log entry. A pure function of one event occurrence, so a re-send is byte-identical. */
export interface Entry {
  /** Stream labels, already valid for Loki (names `[a-zA-Z_][a-zA-Z0-9_]*`, values non-empty UTF-8). */
  readonly labels: LabelMap;
  /** Nanoseconds since the Unix epoch. */
  readonly timestampNs: bigint;
  readonly line: string;
  /** Loki structured metadata; `{}` when there is none. */
  readonly structuredMetadata: LabelMap;
  /** Stable identity of the occurrence: the same occurrence gives the same id in lists, watches and after restarts. */
  readonly occurrenceId: string;
  /**
   * Set when the entry does not carry its occurrence time (kept in the line as `original_ts`):
   * why it was moved. Absent for an entry at its true time.
   */
  readonly retimed?: RetimeReason;
}

/**
 * Why an entry was moved off its occurrence time to one Loki accepts. Bounded: metric label values.
 * `too_old`: older than the accept window (Loki refuses entries older than 7 d); `too_new`: more
 * than the future grace ahead of the clock; `out_of_order`: more than the out-of-order window older
 * than what its stream already holds.
 */
export const RETIME_REASONS = ['too_old', 'too_new', 'out_of_order'] as const;
export type RetimeReason = (typeof RETIME_REASONS)[number];

/**
 * Why Loki refused an entry in a 400 (read from its answer): more than the out-of-order window
 * behind its stream's newest entry, older than Loki's max age, too far in the future, a line over
 * Loki's size limit, too many label names, labels Loki cannot take, structured metadata it refuses.
 */
export const LOKI_REFUSAL_REASONS = ['too_far_behind', 'too_old', 'too_new', 'line_too_long', 'too_many_labels', 'invalid_labels', 'structured_metadata'] as const;
export type LokiRefusalReason = (typeof LOKI_REFUSAL_REASONS)[number];

/**
 * Why an accepted entry was not delivered. Bounded: these are also metric label values.
 * `loki_rejected`: a 400 whose answer names no entry we can tell (the whole push is dropped);
 * `too_large`: one entry alone is answered 413 (or is larger than the whole queue).
 */
export const SINK_DROP_REASONS = [...LOKI_REFUSAL_REASONS, 'loki_rejected', 'too_large', 'retries_exhausted', 'shutdown'] as const;
export type SinkDropReason = (typeof SINK_DROP_REASONS)[number];

export type DeliveryOutcome =
  | { readonly kind: 'delivered' }
  | { readonly kind: 'dropped'; readonly reason: SinkDropReason; readonly detail?: string };

/** Called exactly once per accepted entry. */
export type OutcomeListener = (outcome: DeliveryOutcome) => void;

export interface CloseReport {
  readonly delivered: number;
  readonly dropped: number;
}

/** Where entries go: Loki, or stdout for a first try. */
export interface EntrySink {
  /**
   * Accepts one entry. Resolves once it is queued; while the queue is full it does not resolve
   * (backpressure). `onOutcome` is called exactly once, later, with delivered or dropped.
   */
  write(entry: Entry, onOutcome: OutcomeListener): Promise<void>;
  /** Sends what is batched now and resolves when every accepted entry has its outcome. */
  flush(): Promise<void>;
  /**
   * Stops accepting, tries to deliver what it holds within `drainTimeoutMs`; whatever is left is
   * reported dropped with reason `shutdown`.
   */
  close(drainTimeoutMs: number): Promise<CloseReport>;
}
