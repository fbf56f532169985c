/**
 * What the transform can be told, its defaults, and the start-up check that refuses a
 * configuration Loki would suffer from (high-cardinality labels, too many label names).
 */
import { ConfigError } from '../core/errors.js';
import { isBinaryText } from './text.js';

/** Event fields that may become stream labels: each has a small, bounded set of values. */
export const EVENT_LABELS = ['namespace', 'reason', 'type', 'kind', 'source'] as const;
export type EventLabel = (typeof EVENT_LABELS)[number];

/** Fields with one value per object or per event: as labels they would explode Loki's index. */
export const HIGH_CARDINALITY_FIELDS = [
  'name', 'object_name', 'uid', 'object_uid', 'event', 'event_uid', 'event_name', 'node', 'host', 'instance',
  'message', 'msg', 'note', 'count', 'first_seen', 'last_seen', 'related', 'action', 'original_ts', 'timestamp',
] as const;

export const LINE_FORMATS = ['logfmt', 'json'] as const;
export type LineFormat = (typeof LINE_FORMATS)[number];

/** Loki's default `max_label_names_per_series`. */
export const LOKI_MAX_LABEL_NAMES = 15;
/** Our cap for a label value (Loki's default limit is 2048 bytes). */
export const MAX_LABEL_VALUE_BYTES = 1024;
/** Loki's default `max_line_size`. */
export const LOKI_MAX_LINE_BYTES = 256 * 1024;
export const MIN_MESSAGE_BYTES = 256;
/** Leaves room for escaping and the other keys inside Loki's line limit. */
export const MAX_MESSAGE_BYTES = 128 * 1024;
/** The clamp edge moves in whole hours, so a shorter accept window would make no sense. */
export const MIN_ACCEPT_WINDOW_MS = 3_600_000;
const HOUR_MS = MIN_ACCEPT_WINDOW_MS;

export interface TransformOptions {
  /** Which event fields become stream labels, in this order; all of them stay in the line too. */
  readonly labels: readonly EventLabel[];
  /** Labels every entry carries, e.g. `cluster`, `job`. */
  readonly staticLabels: Readonly<Record<string, string>>;
  readonly lineFormat: LineFormat;
  /** Send `object_name`, `object_uid`, `node`, `event_uid` as Loki structured metadata. */
  readonly structuredMetadata: boolean;
  /** Longer messages are cut (UTF-8 bytes, marker included). */
  readonly maxMessageBytes: number;
  /** Entries older than this are moved to the window's edge (Loki rejects entries older than 7 days by default). */
  readonly acceptWindowMs: number;
}

export const DEFAULT_TRANSFORM_OPTIONS: TransformOptions = Object.freeze({
  labels: Object.freeze([...EVENT_LABELS]),
  staticLabels: Object.freeze({ job: 'kube-event-shipper' }),
  lineFormat: 'logfmt',
  structuredMetadata: true,
  maxMessageBytes: 32 * 1024,
  acceptWindowMs: 6 * 24 * HOUR_MS,
});

/** What the config module passes in: any field may be missing; names arrive as plain strings. */
export interface TransformOptionsInput {
  readonly labels?: readonly string[] | undefined;
  readonly staticLabels?: Readonly<Record<string, string>> | undefined;
  readonly lineFormat?: string | undefined;
  readonly structuredMetadata?: boolean | undefined;
  readonly maxMessageBytes?: number | undefined;
  readonly acceptWindowMs?: number | undefined;
}

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Fills in defaults and validates; throws `ConfigError` with a one-line reason. */
export function resolveTransformOptions(input: TransformOptionsInput = {}): TransformOptions {
  const labels = resolveLabels(input.labels ?? DEFAULT_TRANSFORM_OPTIONS.labels);
  const staticLabels = resolveStaticLabels(input.staticLabels ?? DEFAULT_TRANSFORM_OPTIONS.staticLabels, labels);
  const lineFormat = input.lineFormat ?? DEFAULT_TRANSFORM_OPTIONS.lineFormat;
  if (!isLineFormat(lineFormat)) {
    throw new ConfigError(`line format: "${lineFormat}" is not one of ${LINE_FORMATS.join(', ')}`);
  }
  const maxMessageBytes = input.maxMessageBytes ?? DEFAULT_TRANSFORM_OPTIONS.maxMessageBytes;
  if (!Number.isInteger(maxMessageBytes) || maxMessageBytes < MIN_MESSAGE_BYTES || maxMessageBytes > MAX_MESSAGE_BYTES) {
    throw new ConfigError(`max message bytes: ${maxMessageBytes} is not an integer from ${MIN_MESSAGE_BYTES} to ${MAX_MESSAGE_BYTES}`);
  }
  const acceptWindowMs = input.acceptWindowMs ?? DEFAULT_TRANSFORM_OPTIONS.acceptWindowMs;
  if (!Number.isInteger(acceptWindowMs) || acceptWindowMs < HOUR_MS) {
    throw new ConfigError(`accept window: ${acceptWindowMs} ms is shorter than 1h (the clamp edge moves in whole hours)`);
  }
  return Object.freeze({
    labels: Object.freeze(labels),
    staticLabels: Object.freeze(staticLabels),
    lineFormat,
    structuredMetadata: input.structuredMetadata ?? DEFAULT_TRANSFORM_OPTIONS.structuredMetadata,
    maxMessageBytes,
    acceptWindowMs,
  });
}

function resolveLabels(names: readonly string[]): EventLabel[] {
  const problem = labelsProblem(names);
  if (problem !== undefined) throw new ConfigError(`labels: ${problem}`);
  return [...new Set(names.filter(isEventLabel))];
}

/**
 * Why these names cannot be the stream labels, or undefined. Shared with the config schema, so a
 * flag, env or file value is refused there in the one error format naming where it came from.
 */
export function labelsProblem(names: readonly string[]): string | undefined {
  const seen = new Set<string>();
  for (const name of names) {
    if ((HIGH_CARDINALITY_FIELDS as readonly string[]).includes(name)) {
      return `"${name}" has a value per object or event and would explode Loki's index; it stays in the line and structured metadata (allowed: ${EVENT_LABELS.join(', ')})`;
    }
    if (!isEventLabel(name)) return `"${name}" is not an event label (allowed: ${EVENT_LABELS.join(', ')})`;
    if (seen.has(name)) return `"${name}" is listed twice`;
    seen.add(name);
  }
  return undefined;
}

function resolveStaticLabels(
  staticLabels: Readonly<Record<string, string>>,
  eventLabels: readonly EventLabel[],
): Record<string, string> {
  const problem = staticLabelsProblem(staticLabels, eventLabels);
  if (problem !== undefined) throw new ConfigError(`static labels: ${problem}`);
  return { ...staticLabels };
}

/** Why these static labels cannot be used next to `eventLabels`, or undefined (shared with the config schema). */
export function staticLabelsProblem(staticLabels: Readonly<Record<string, string>>, eventLabels: readonly string[]): string | undefined {
  for (const [name, value] of Object.entries(staticLabels)) {
    if (!LABEL_NAME.test(name)) return `"${name}" is not a valid Loki label name ([a-zA-Z_][a-zA-Z0-9_]*)`;
    if (name.startsWith('__')) return `"${name}" starts with "__", which Loki reserves`;
    if (eventLabels.includes(name)) return `"${name}" clashes with the event label of the same name`;
    if (typeof value !== 'string' || value === '') return `"${name}" has an empty value`;
    if (Buffer.byteLength(value, 'utf8') > MAX_LABEL_VALUE_BYTES) return `the value of "${name}" is longer than ${MAX_LABEL_VALUE_BYTES} bytes`;
    if (value.includes('\uFFFD') || isBinaryText(value)) return `the value of "${name}" is not valid UTF-8 text`;
  }
  return labelCountProblem(eventLabels.length, Object.keys(staticLabels));
}

function labelCountProblem(eventLabelCount: number, staticNames: readonly string[]): string | undefined {
  // Loki does not count `service_name` (it adds one itself when missing).
  const staticCount = staticNames.filter((name) => name !== 'service_name').length;
  return eventLabelCount + staticCount > LOKI_MAX_LABEL_NAMES
    ? `${eventLabelCount} event labels + ${staticCount} static labels exceed Loki's limit of ${LOKI_MAX_LABEL_NAMES} label names`
    : undefined;
}

function isEventLabel(name: string): name is EventLabel {
  return (EVENT_LABELS as readonly string[]).includes(name);
}

function isLineFormat(name: string): name is LineFormat {
  return (LINE_FORMATS as readonly string[]).includes(name);
}
