/** Public API of the transform stage. */
export { createTransformer, clampEdgeNs, futureEdgeNs, FUTURE_GRACE_MS, type Transformer, type TransformDeps } from './transformer.js';
export {
  MALFORMED_REASONS,
  normalizeEvent,
  type EventApi,
  type MalformedReason,
  type NormalizedEvent,
  type NormalizeResult,
  type OccurrenceTimeSource,
} from './normalize.js';
export {
  DEFAULT_TRANSFORM_OPTIONS,
  EVENT_LABELS,
  HIGH_CARDINALITY_FIELDS,
  LINE_FORMATS,
  LOKI_MAX_LABEL_NAMES,
  resolveTransformOptions,
  type EventLabel,
  type LineFormat,
  type TransformOptions,
  type TransformOptionsInput,
} from './options.js';
export { CLUSTER_SCOPED_NAMESPACE, EMPTY_LABEL_VALUE, STRUCTURED_METADATA_NAMES, UNKNOWN_LEVEL, levelOf } from './labels.js';
export { LINE_KEYS } from './line.js';
export { occurrenceIdOf } from './identity.js';
export { formatRfc3339Ns, parseRfc3339Ns } from './time.js';
export { eventsInDocument, eventsInText, type DocumentEvents } from './documents.js';
