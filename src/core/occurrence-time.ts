/**
 * Where an Event's occurrence time comes from: the first of these fields present wins. One order
 * for both readers: the transform (normalize.ts, which dates each entry) and the source
 * (event-fields.ts, which decides from the raw object whether a relisted event is recent).
 * Each rank names its field in both API shapes (core/v1, events.k8s.io/v1).
 */
export const OCCURRENCE_TIME_FIELDS = [
  { source: 'series.lastObservedTime', core: ['series', 'lastObservedTime'], events: ['series', 'lastObservedTime'] },
  { source: 'lastTimestamp', core: ['lastTimestamp'], events: ['deprecatedLastTimestamp'] },
  { source: 'eventTime', core: ['eventTime'], events: ['eventTime'] },
  { source: 'firstTimestamp', core: ['firstTimestamp'], events: ['deprecatedFirstTimestamp'] },
  { source: 'metadata.creationTimestamp', core: ['metadata', 'creationTimestamp'], events: ['metadata', 'creationTimestamp'] },
] as const;

/** Which field gave the occurrence time. */
export type OccurrenceTimeSource = (typeof OCCURRENCE_TIME_FIELDS)[number]['source'];
