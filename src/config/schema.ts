/**
 * The one schema of the configuration (zod 4), derived from the catalogue (`options.ts`): each
 * option's kind picks its field, its bounds come along, and an option without a default is
 * optional. Values arrive as text (flags, env) or as YAML natives (file); each field accepts both
 * and parses text with the helpers in `parse.ts`, so a default, a flag and a file value go through
 * the same code.
 */
import { z } from 'zod';
import { OPTION_SPECS, type CatalogueEntry, type OptionKey, type OptionKind, type OptionSpec } from './options.js';
import {
  type InitialPolicy,
  type ListenAddress,
  type NamespacedName,
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
  HEADER_NAME,
  formatMs,
} from './parse.js';
import { labelsProblem, staticLabelsProblem } from '../transform/options.js';

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

/** What each kind of option is once parsed. */
interface KindValues {
  string: string;
  path: string;
  url: string;
  duration: number;
  bytes: number;
  int: number;
  bool: boolean;
  list: string[];
  map: Record<string, string>;
  namespacedName: NamespacedName;
  initial: InitialPolicy;
  listen: ListenAddress;
}
type ValueOf<S> = S extends { readonly kind: 'enum'; readonly choices: readonly (infer C)[] }
  ? C
  : S extends { readonly kind: infer K extends keyof KindValues }
    ? KindValues[K]
    : never;

/** The validated options: an option with a default is always there, one without may be absent. */
export type ParsedOptions = { -readonly [S in CatalogueEntry as S extends { readonly default: string } ? S['key'] : never]: ValueOf<S> } & {
  -readonly [S in CatalogueEntry as S extends { readonly default: string } ? never : S['key']]?: ValueOf<S>;
};

/** The field for a kind, with the option's bounds (`min`/`max`, in the kind's unit). */
function fieldFor(spec: OptionSpec): z.ZodType {
  const min = spec.min ?? 1;
  const kinds: Record<OptionKind, () => z.ZodType> = {
    string: text,
    path: text,
    url,
    duration: () => duration(min, spec.max),
    bytes: () => bytes(min, spec.max),
    int: () => integer(min),
    bool,
    list,
    map: keyValues,
    enum: () => oneOf(spec.choices ?? []),
    namespacedName,
    initial: () => fromText(parseInitial),
    listen: () => fromText(parseListenAddress),
  };
  return kinds[spec.kind]();
}

/** Options with rules beyond their kind. */
const SPECIAL_FIELDS: { readonly [K in OptionKey]?: () => z.ZodType } = {
  lokiHeaders: () =>
    keyValues().transform((map, ctx) => {
      for (const key of Object.keys(map)) {
        // The name is not echoed: "Name: value=…" would put a value in the message.
        if (!HEADER_NAME.test(key)) ctx.addIssue({ code: 'custom', message: 'expected comma-separated name=value pairs with HTTP header names', input: map });
      }
      return map;
    }),
  labels: () =>
    list().transform((names, ctx) => {
      const problem = labelsProblem(names);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: `expected event labels only: ${problem}`, input: names });
      return names;
    }),
  // Merged over the default job label: every dashboard and rule selects {job="kube-event-shipper"},
  // so adding cluster=prod must not drop it; job=other still replaces it.
  staticLabels: () =>
    keyValues()
      .transform(checkLabelNames)
      .transform((map) => ({ job: DEFAULT_JOB_LABEL, ...map })),
};

function field(spec: OptionSpec & { readonly key: OptionKey }): z.ZodType {
  const base = SPECIAL_FIELDS[spec.key]?.() ?? fieldFor(spec);
  return spec.default === undefined ? base.optional() : base;
}

export const configSchema = z
  .object(Object.fromEntries(OPTION_SPECS.map((spec) => [spec.key, field(spec)])) as Record<OptionKey, z.ZodType>)
  .strict()
  // Static labels are checked against the event labels they sit next to (clashes, Loki's label count).
  .superRefine((options, ctx) => {
    const { staticLabels, labels } = options as Pick<ParsedOptions, 'staticLabels' | 'labels'>;
    const problem = staticLabelsProblem(staticLabels, labels);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', path: ['staticLabels'], message: `expected labels Loki accepts: ${problem}`, input: staticLabels });
  });

/** Validates raw option values (text or YAML natives, by key) into `ParsedOptions`. */
export function parseOptions(raw: Readonly<Record<string, unknown>>): { success: true; data: ParsedOptions } | { success: false; error: z.ZodError } {
  const result = configSchema.safeParse(raw);
  // The schema is built field by field from the catalogue, so zod cannot infer this type; each
  // field's output is the kind's value type (`KindValues`) by construction.
  return result.success ? { success: true, data: result.data as ParsedOptions } : { success: false, error: result.error };
}
