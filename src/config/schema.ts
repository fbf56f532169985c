/**
 * The one schema of the configuration (zod 4). Values arrive as text (flags, env) or as YAML
 * natives (file); each field accepts both and parses text with the helpers in `parse.ts`, so a
 * default, a flag and a file value go through the same code.
 */
import { z } from 'zod';
import {
  parseBoolean,
  parseByteSize,
  parseDuration,
  parseInitial,
  parseInteger,
  parseKeyValues,
  parseList,
  parseListenAddress,
  parseNamespacedName,
  ValueError,
} from './parse.js';
import { labelsProblem, MAX_MESSAGE_BYTES, MIN_ACCEPT_WINDOW_MS, MIN_MESSAGE_BYTES, staticLabelsProblem } from '../transform/options.js';

type Scalar = string | number | boolean;
const scalar = z.union([z.string(), z.number(), z.boolean()], { error: 'expected a single value' });

/** A field given as text or a YAML scalar, parsed from its text form. */
function fromText<T>(parse: (text: string) => T) {
  return scalar.transform((value: Scalar, ctx): T => {
    try {
      return parse(String(value));
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: err instanceof ValueError ? err.message : String(err), input: value });
      return z.NEVER;
    }
  });
}

const text = () =>
  fromText((v) => {
    if (v.trim() === '') throw new ValueError('a non-empty value');
    return v.trim();
  });
/** Shortest readable form of a bound for messages: 1000 → "1s", 100 → "100ms". */
function formatMs(ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/**
 * A duration in milliseconds within bounds. Zero or tiny values turn timers and retry loops into
 * busy loops, so every duration has a minimum that suits its job.
 */
const duration = (min: number, max?: number) =>
  fromText((v) => {
    const ms = parseDuration(v);
    const range = max === undefined ? `≥ ${formatMs(min)}` : `between ${formatMs(min)} and ${formatMs(max)}`;
    if (ms < min || (max !== undefined && ms > max)) throw new ValueError(`a duration ${range}`);
    return ms;
  });
const bytes = (min = 1, max?: number) =>
  fromText((v) => {
    const n = parseByteSize(v);
    if (n < min || (max !== undefined && n > max)) {
      throw new ValueError(max === undefined ? `a byte size ≥ ${min}` : `a byte size between ${min} and ${max} (${max / 1024}KiB)`);
    }
    return n;
  });
const integer = (min: number) => fromText((v) => parseInteger(v, min));
const bool = () => fromText(parseBoolean);
const namespacedName = () => fromText(parseNamespacedName);
const url = () =>
  fromText((v) => {
    let parsed: URL;
    try {
      parsed = new URL(v.trim());
    } catch {
      throw new ValueError('an http:// or https:// URL');
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new ValueError('an http:// or https:// URL');
    if (parsed.username !== '' || parsed.password !== '') {
      throw new ValueError('a URL without credentials (use --loki-username and --loki-password-file)');
    }
    return parsed.href.replace(/\/+$/, '');
  });
function oneOf<const T extends readonly string[]>(choices: T) {
  return fromText((v): T[number] => {
    const found = choices.find((c) => c === v.trim());
    if (found === undefined) throw new ValueError(`one of ${choices.join(', ')}`);
    return found;
  });
}

/**
 * A field given as text (parsed by `parse`) or as a YAML structure (converted by `fromYaml`). One
 * transform instead of a zod union, so a bad value gets the parser's own message rather than
 * zod's "Invalid input".
 */
function textOr<T>(parse: (text: string) => T, fromYaml: (value: object) => T | undefined, expected: string) {
  return z.unknown().transform((value, ctx): T => {
    try {
      if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return parse(String(value));
      const converted = value !== null && typeof value === 'object' ? fromYaml(value) : undefined;
      if (converted !== undefined) return converted;
      throw new ValueError(expected);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: err instanceof ValueError ? err.message : String(err), input: value });
      return z.NEVER;
    }
  });
}

const isScalar = (value: unknown): value is Scalar => ['string', 'number', 'boolean'].includes(typeof value);

/** A comma-separated string or a YAML list of scalars. */
const list = () =>
  textOr(
    parseList,
    (value) =>
      Array.isArray(value) && value.every(isScalar)
        ? value.map((item) => String(item).trim()).filter((item) => item !== '')
        : undefined,
    'a comma-separated list',
  );

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
function checkLabelNames(map: Record<string, string>, ctx: z.RefinementCtx): Record<string, string> {
  for (const key of Object.keys(map)) {
    if (!LABEL_NAME.test(key)) ctx.addIssue({ code: 'custom', message: `expected label names matching [a-zA-Z_][a-zA-Z0-9_]* (got "${key}")`, input: map });
  }
  return map;
}

/** `k=v,…` or a YAML mapping of scalars. */
const keyValues = () =>
  textOr(
    parseKeyValues,
    (value) =>
      !Array.isArray(value) && Object.values(value).every(isScalar)
        ? Object.fromEntries(Object.entries(value as Record<string, Scalar>).map(([k, v]) => [k, String(v)]))
        : undefined,
    'comma-separated key=value pairs',
  );

/** The `job` stream label every stream carries unless the static labels set another. */
const DEFAULT_JOB_LABEL = 'kube-event-shipper';

/** An HTTP header name (RFC 9110 token). */
export const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export const configSchema = z
  .object({
    config: text().optional(),
    logLevel: oneOf(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const),

    lokiUrl: url().optional(),
    tenant: text().optional(),
    lokiUsername: text().optional(),
    lokiPasswordFile: text().optional(),
    lokiBearerTokenFile: text().optional(),
    lokiHeaders: keyValues().transform((map, ctx) => {
      for (const key of Object.keys(map)) {
        // The name is not echoed: "Name: value=…" would put a value in the message.
        if (!HEADER_NAME.test(key)) ctx.addIssue({ code: 'custom', message: 'expected comma-separated name=value pairs with HTTP header names', input: map });
      }
      return map;
    }),
    lokiCaFile: text().optional(),
    lokiCertFile: text().optional(),
    lokiKeyFile: text().optional(),
    lokiInsecureSkipVerify: bool(),
    lokiTimeout: duration(100),
    batchMaxBytes: bytes(),
    batchMaxEntries: integer(1),
    batchMaxWait: duration(1),
    queueMaxBytes: bytes(),
    // Loki's default is 1h (max_chunk_age 2h / 2); below a minute it is no longer a Loki setting.
    lokiOutOfOrderWindow: duration(60_000),

    lineFormat: oneOf(['logfmt', 'json'] as const),
    labels: list().transform((names, ctx) => {
      const problem = labelsProblem(names);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: `expected event labels only: ${problem}`, input: names });
      return names;
    }),
    // Merged over the default job label: every dashboard and rule selects {job="kube-event-shipper"},
    // so adding cluster=prod must not drop it; job=other still replaces it.
    staticLabels: keyValues()
      .transform(checkLabelNames)
      .transform((map) => ({ job: DEFAULT_JOB_LABEL, ...map })),
    structuredMetadata: bool(),
    maxMessageBytes: bytes(MIN_MESSAGE_BYTES, MAX_MESSAGE_BYTES),
    // The clamp edge moves in whole hours.
    acceptWindow: duration(MIN_ACCEPT_WINDOW_MS),

    kubeconfig: text().optional(),
    context: text().optional(),
    api: oneOf(['core/v1', 'events.k8s.io/v1'] as const),

    namespaces: list(),
    excludeNamespaces: list(),
    fieldSelector: text().optional(),
    types: list(),
    reasons: list(),
    kinds: list(),
    initial: fromText(parseInitial),
    pageSize: integer(1),
    stallTimeout: duration(1000),
    checkpointFile: text().optional(),
    checkpointConfigmap: namespacedName().optional(),
    // 100ms rather than 1s: fast failover tests use sub-second intervals; 0 was a timer busy loop.
    checkpointInterval: duration(100),

    listen: fromText(parseListenAddress),
    healthStallTimeout: duration(60_000),
    leaderElect: bool(),
    lease: namespacedName().optional(),
    leaseDuration: duration(1000),
    leaseRenewDeadline: duration(200),
    leaseRetryPeriod: duration(100),
    identity: text().optional(),
    gracePeriod: duration(1000),
  })
  .strict()
  // Static labels are checked against the event labels they sit next to (clashes, Loki's label count).
  .superRefine((options, ctx) => {
    const problem = staticLabelsProblem(options.staticLabels, options.labels);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', path: ['staticLabels'], message: `expected labels Loki accepts: ${problem}`, input: options.staticLabels });
  });

export type ParsedOptions = z.output<typeof configSchema>;
