/**
 * What a stock Loki 3.2 does with a decoded push, modelled from its source (v3.2.2:
 * pkg/distributor/distributor.go Push + validator.go, pkg/loghttp/push/push.go, pkg/ingester/
 * instance.go + stream.go, pkg/chunkenc/unordered.go) and checked against the answers a real
 * Loki 3.2.2 gave (`../shared/fixtures/loki-push/loki-refusals.json`). The fake Loki's HTTP layer
 * feeds pushes in; this module decides what is stored and what the answer says, word for word.
 *
 * The order of checks follows Loki:
 *  1. distributor, per stream: parse labels, add the derived `service_name`, check label count and
 *     lengths (a bad stream refuses all its entries); per entry: too old, too new, line too long,
 *     structured metadata. Refusals become one 400 body of grouped messages.
 *  2. distributor: the tenant's ingestion rate (off unless set): over it, 429 and nothing stored.
 *  3. ingester, per stream in request order: the active-stream limit (off unless set, 429), then
 *     per entry: a repeat of the stream's last line is skipped, an entry more than the window
 *     behind the stream's newest is refused (`too_far_behind`), the rest is stored; an entry with
 *     the same timestamp and line as a stored one is dropped silently (its metadata is not kept).
 *     Loki keeps only the LAST stream's error (instance.go assigns `appendErr` per stream), so a
 *     refusal in an earlier stream of the same push is not reported at all, and a later stream
 *     without errors turns the answer back into 2xx. The fake does the same; `refusals` tells
 *     tests the whole truth.
 *  4. answer: the ingester's error if any (its status, validation messages lost), else 400 with
 *     the validation messages, else success.
 */
import type { ReceivedStream } from './loki-receiver.js';

export interface LokiLimits {
  /** `max_chunk_age / 2`: how far behind the newest entry of its stream an entry may be. 0 = ordered checks off. Default 1 h. */
  readonly outOfOrderWindowMs: number;
  /** `reject_old_samples_max_age`; 0 = accept any age. Default 7 d. */
  readonly maxAgeMs: number;
  /** `creation_grace_period`: how far ahead of the clock an entry may be. Default 10 min. */
  readonly creationGraceMs: number;
  /** `max_line_size` in bytes; 0 = unlimited. Default 256 KB (262144). */
  readonly maxLineBytes: number;
  /** `max_label_names_per_series`. Default 15. */
  readonly maxLabelNames: number;
  readonly maxLabelNameLength: number;
  readonly maxLabelValueLength: number;
  /** `discover_service_name`: labels tried in order for the derived `service_name`; empty = none derived. */
  readonly discoverServiceName: readonly string[];
  readonly allowStructuredMetadata: boolean;
  /** Bytes of names + values per entry; 0 = unlimited. Default 64 KB. */
  readonly maxStructuredMetadataBytes: number;
  readonly maxStructuredMetadataEntries: number;
  /** `ingester.max-ignored-stream-errors`: entries named in an out-of-order answer. Default 10. */
  readonly maxReturnedErrors: number;
  /**
   * Tenant ingestion rate in line bytes per second, and its burst (token bucket, on the fake's
   * clock). Stock Loki: 4 MB/s, burst 6 MB. Off (0) by default here: tests push bursts over
   * loopback that no real deployment would see in one second. Over it: 429, nothing stored.
   */
  readonly ingestionRateBytes: number;
  readonly ingestionBurstBytes: number;
  /** Active streams per tenant; a push creating more is answered 429 for those streams. 0 = unlimited (default; stock Loki: 5000). */
  readonly maxStreams: number;
}

export const STOCK_LOKI_LIMITS: LokiLimits = Object.freeze({
  outOfOrderWindowMs: 60 * 60_000,
  maxAgeMs: 7 * 24 * 60 * 60_000,
  creationGraceMs: 10 * 60_000,
  maxLineBytes: 262_144,
  maxLabelNames: 15,
  maxLabelNameLength: 1024,
  maxLabelValueLength: 2048,
  // v3.2.2 pkg/validation/limits.go
  discoverServiceName: Object.freeze(['service', 'app', 'application', 'name', 'app_kubernetes_io_name', 'container', 'container_name', 'k8s_container_name', 'component', 'workload', 'job', 'k8s_job_name']),
  allowStructuredMetadata: true,
  maxStructuredMetadataBytes: 64 * 1024,
  maxStructuredMetadataEntries: 128,
  maxReturnedErrors: 10,
  ingestionRateBytes: 0,
  ingestionBurstBytes: 0,
  maxStreams: 0,
});

/** Loki's own `reason` label values (validate.go), so tests can count refusals the way Loki's metrics do. */
export type LokiRefusalReason =
  | 'too_far_behind'
  | 'greater_than_max_sample_age'
  | 'too_far_in_future'
  | 'line_too_long'
  | 'max_label_names_per_series'
  | 'label_name_too_long'
  | 'label_value_too_long'
  | 'duplicate_label_names'
  | 'invalid_labels'
  | 'missing_labels'
  | 'disallowed_structured_metadata'
  | 'structured_metadata_too_large'
  | 'structured_metadata_too_many'
  | 'rate_limited'
  | 'stream_limit';

export interface LokiEntry {
  readonly timestampNs: bigint;
  readonly line: string;
  readonly structuredMetadata: Readonly<Record<string, string>>;
}

/** An entry Loki did not store, and why. */
export interface Refusal extends LokiEntry {
  /** The label string as pushed. */
  readonly labels: string;
  readonly tenant: string | undefined;
  readonly reason: LokiRefusalReason;
}

export interface Stored extends LokiEntry {
  readonly labels: string;
  readonly tenant: string | undefined;
}

export interface PushVerdict {
  /** 2xx when nothing is to be reported (which, as in Loki, does not mean nothing was refused). */
  readonly status: number;
  /** Loki's text answer, ending in a newline like Go's http.Error; '' on success. */
  readonly body: string;
  readonly stored: readonly Stored[];
  readonly refused: readonly Refusal[];
  /** Entries dropped silently as repeats of a stored one. */
  readonly duplicates: number;
}

interface StreamState {
  highestTs: bigint | undefined;
  lastTs: bigint | undefined;
  lastLine: string | undefined;
  /** `ts\0line` of every stored entry (not kept with `keepEntries: false`). */
  readonly seen: Set<string>;
  /** Loki's rendering of the labels, with service_name. */
  readonly display: string;
}

const NS_PER_MS = 1_000_000n;

/** The per-tenant state of one fake Loki: streams, their newest entries, what is stored. */
export class LokiModel {
  private readonly tenants = new Map<string, Map<string, StreamState>>();
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    public limits: LokiLimits,
    private readonly now: () => number,
    /** False for benchmarks: no duplicate record, so memory stays flat. */
    private readonly keepEntries: boolean,
  ) {}

  push(tenant: string | undefined, streams: readonly ReceivedStream[]): PushVerdict {
    const limits = this.limits;
    const nowMs = this.now();
    const refused: Refusal[] = [];
    const validationErrors: string[] = [];
    const valid: { labels: string; parsed: Map<string, string>; display: string; entries: LokiEntry[] }[] = [];
    let validatedBytes = 0;

    for (const stream of streams) {
      if (stream.entries.length === 0) continue;
      const refuseAll = (reason: LokiRefusalReason, message: string): void => {
        validationErrors.push(message);
        for (const e of stream.entries) refused.push({ ...e, labels: stream.labels, tenant, reason });
      };
      let parsed: Map<string, string>;
      try {
        parsed = parseLabelString(stream.labels);
      } catch (err) {
        refuseAll('invalid_labels', `Error parsing labels '${stream.labels}' with error: ${err instanceof Error ? err.message : String(err)}`);
        continue;
      }
      if (parsed.size === 0) {
        refuseAll('missing_labels', 'error at least one label pair is required per stream');
        continue;
      }
      const withService = new Map(parsed);
      if (!withService.has('service_name') && limits.discoverServiceName.length > 0) {
        const from = limits.discoverServiceName.find((name) => (parsed.get(name) ?? '') !== '');
        withService.set('service_name', from === undefined ? 'unknown_service' : (parsed.get(from) ?? ''));
      }
      const display = goLabelsString(withService);
      // validator.go: a service_name label (Loki's own or the sender's) is not counted.
      const names = withService.size - (withService.has('service_name') ? 1 : 0);
      if (names > limits.maxLabelNames) {
        refuseAll('max_label_names_per_series', `entry for stream '${display}' has ${names} label names; limit ${limits.maxLabelNames}`);
        continue;
      }
      const badName = [...withService.keys()].find((n) => n.length > limits.maxLabelNameLength);
      if (badName !== undefined) {
        refuseAll('label_name_too_long', `stream '${display}' has label name too long: '${badName}'`);
        continue;
      }
      const badValue = [...withService.values()].find((v) => Buffer.byteLength(v, 'utf8') > limits.maxLabelValueLength);
      if (badValue !== undefined) {
        refuseAll('label_value_too_long', `stream '${display}' has label value too long: '${badValue}'`);
        continue;
      }

      const oldest = limits.maxAgeMs > 0 ? BigInt(nowMs - limits.maxAgeMs) * NS_PER_MS : undefined;
      const newest = BigInt(nowMs + limits.creationGraceMs) * NS_PER_MS;
      const kept: LokiEntry[] = [];
      for (const e of stream.entries) {
        const refuse = (reason: LokiRefusalReason, message: string): void => {
          validationErrors.push(message);
          refused.push({ ...e, labels: stream.labels, tenant, reason });
        };
        const lineBytes = Buffer.byteLength(e.line, 'utf8');
        if (oldest !== undefined && e.timestampNs < oldest) {
          refuse('greater_than_max_sample_age', `entry for stream '${display}' has timestamp too old: ${rfc3339(e.timestampNs)}, oldest acceptable timestamp is: ${rfc3339(oldest)}`);
          continue;
        }
        if (e.timestampNs > newest) {
          refuse('too_far_in_future', `entry for stream '${display}' has timestamp too new: ${rfc3339(e.timestampNs)}`);
          continue;
        }
        if (limits.maxLineBytes > 0 && lineBytes > limits.maxLineBytes) {
          refuse('line_too_long', `Max entry size '${limits.maxLineBytes}' bytes exceeded for stream '${display}' while adding an entry with length '${lineBytes}' bytes`);
          continue;
        }
        const metadata = Object.entries(e.structuredMetadata);
        if (metadata.length > 0) {
          if (!limits.allowStructuredMetadata) {
            refuse(
              'disallowed_structured_metadata',
              `stream '${display}' includes structured metadata, but this feature is disallowed. Please see \`limits_config.allow_structured_metadata\` or contact your Loki administrator to enable it.`,
            );
            continue;
          }
          const bytes = metadata.reduce((n, [k, v]) => n + Buffer.byteLength(k, 'utf8') + Buffer.byteLength(v, 'utf8'), 0);
          if (limits.maxStructuredMetadataBytes > 0 && bytes > limits.maxStructuredMetadataBytes) {
            refuse(
              'structured_metadata_too_large',
              `stream '${display}' has structured metadata too large: '${bytes}' bytes, limit: '${limits.maxStructuredMetadataBytes}' bytes. Please see \`limits_config.max_structured_metadata_size\` or contact your Loki administrator to increase it.`,
            );
            continue;
          }
          if (limits.maxStructuredMetadataEntries > 0 && metadata.length > limits.maxStructuredMetadataEntries) {
            refuse(
              'structured_metadata_too_many',
              `stream '${display}' has too many structured metadata labels: '${metadata.length}', limit: '${limits.maxStructuredMetadataEntries}'. Please see \`limits_config.max_structured_metadata_entries_count\` or contact your Loki administrator to increase it.`,
            );
            continue;
          }
        }
        kept.push(e);
        validatedBytes += lineBytes;
      }
      if (kept.length > 0) valid.push({ labels: stream.labels, parsed, display, entries: kept });
    }

    const validationBody = validationErrors.length > 0 ? groupedErrors(validationErrors) : undefined;
    if (valid.length === 0) {
      return { status: validationBody === undefined ? 204 : 400, body: validationBody === undefined ? '' : `${validationBody}\n`, stored: [], refused, duplicates: 0 };
    }

    const key = tenant ?? 'fake';
    if (limits.ingestionRateBytes > 0 && !this.allowRate(key, nowMs, validatedBytes)) {
      const lines = valid.reduce((n, s) => n + s.entries.length, 0);
      for (const s of valid) for (const e of s.entries) refused.push({ ...e, labels: s.labels, tenant, reason: 'rate_limited' });
      const body = `Ingestion rate limit exceeded for user ${key} (limit: ${limits.ingestionRateBytes} bytes/sec) while attempting to ingest '${lines}' lines totaling '${validatedBytes}' bytes, reduce log volume or contact your Loki administrator to see if the limit can be increased`;
      return { status: 429, body: `${body}\n`, stored: [], refused, duplicates: 0 };
    }

    const streamsOfTenant = this.tenants.get(key) ?? new Map<string, StreamState>();
    this.tenants.set(key, streamsOfTenant);
    const stored: Stored[] = [];
    let duplicates = 0;
    // instance.go: each stream's result replaces the previous one's.
    let appendErr: { status: number; body: string } | undefined;
    for (const s of valid) {
      // Loki keys streams by their labels with service_name, in canonical order.
      const streamKey = s.display;
      let state = streamsOfTenant.get(streamKey);
      if (state === undefined) {
        if (limits.maxStreams > 0 && streamsOfTenant.size >= limits.maxStreams) {
          for (const e of s.entries) refused.push({ ...e, labels: s.labels, tenant, reason: 'stream_limit' });
          appendErr = {
            status: 429,
            body: `Maximum active stream limit exceeded when trying to create stream ${s.display}, reduce the number of active streams (reduce labels or reduce label values), or contact your Loki administrator to see if the limit can be increased, user: '${key}'`,
          };
          continue;
        }
        state = { highestTs: undefined, lastTs: undefined, lastLine: undefined, seen: new Set(), display: s.display };
        streamsOfTenant.set(streamKey, state);
      }
      const windowNs = BigInt(limits.outOfOrderWindowMs) * NS_PER_MS;
      const failed: { e: LokiEntry; reason: string }[] = [];
      for (const e of s.entries) {
        // stream.go: a repeat of the last appended line is skipped before any check.
        if (e.timestampNs === state.lastTs && e.line === state.lastLine) {
          duplicates += 1;
          continue;
        }
        if (limits.outOfOrderWindowMs > 0 && state.highestTs !== undefined && e.timestampNs < state.highestTs - windowNs) {
          const cutoff = state.highestTs - windowNs;
          failed.push({ e, reason: `entry too far behind, entry timestamp is: ${rfc3339(e.timestampNs)}, oldest acceptable timestamp is: ${rfc3339(cutoff)}` });
          refused.push({ ...e, labels: s.labels, tenant, reason: 'too_far_behind' });
          continue;
        }
        state.lastTs = e.timestampNs;
        state.lastLine = e.line;
        if (state.highestTs === undefined || e.timestampNs > state.highestTs) state.highestTs = e.timestampNs;
        // unordered.go: same timestamp and line as a stored entry: kept once, the first metadata stays.
        const id = `${e.timestampNs}\u0000${e.line}`;
        if (state.seen.has(id)) {
          duplicates += 1;
          continue;
        }
        if (this.keepEntries) state.seen.add(id);
        stored.push({ ...e, labels: s.labels, tenant });
      }
      appendErr = failed.length === 0 ? undefined : { status: 400, body: outOfOrderBody(failed, s.entries.length, key, s.display, limits.maxReturnedErrors) };
    }
    if (appendErr !== undefined) return { status: appendErr.status, body: `${appendErr.body}\n`, stored, refused, duplicates };
    if (validationBody !== undefined) return { status: 400, body: `${validationBody}\n`, stored, refused, duplicates };
    return { status: 204, body: '', stored, refused, duplicates };
  }

  private allowRate(key: string, nowMs: number, bytes: number): boolean {
    const { ingestionRateBytes: rate, ingestionBurstBytes } = this.limits;
    const burst = Math.max(ingestionBurstBytes, rate);
    const bucket = this.buckets.get(key) ?? { tokens: burst, at: nowMs };
    bucket.tokens = Math.min(burst, bucket.tokens + ((nowMs - bucket.at) / 1000) * rate);
    bucket.at = nowMs;
    this.buckets.set(key, bucket);
    if (bytes > bucket.tokens) return false;
    bucket.tokens -= bytes;
    return true;
  }
}

/** stream.go errorForFailedEntries: up to `max` entries named, then the total. */
function outOfOrderBody(failed: readonly { e: LokiEntry; reason: string }[], total: number, tenant: string, display: string, max: number): string {
  const named = max > 0 ? failed.slice(0, max) : failed;
  let body = '';
  for (const { e, reason } of named) body += `entry with timestamp ${goTimeString(e.timestampNs)} ignored, reason: '${reason}',\n`;
  return `${body}user '${tenant}', total ignored: ${failed.length} out of ${total} for stream: ${display}`;
}

/** util.GroupedErrors: identical messages counted, joined with "; " (Go's map order; insertion order here). */
function groupedErrors(messages: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const m of messages) counts.set(m, (counts.get(m) ?? 0) + 1);
  const parts: string[] = [];
  for (const [message, n] of counts) parts.push(counts.size > 1 || n > 1 ? `${n} errors like: ${message}` : message);
  return parts.join('; ');
}

/** Go's `time.RFC3339` of a UTC time: whole seconds, `Z`. */
export function rfc3339(ns: bigint): string {
  const ms = Number(ns / NS_PER_MS) - (ns % NS_PER_MS < 0n ? 1 : 0);
  return `${new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19)}Z`;
}

/** Go's `Time.String()` of a UTC time: `2026-12-01 07:15:25.5 +0000 UTC` (fraction without trailing zeros). */
export function goTimeString(ns: bigint): string {
  const seconds = ns / 1_000_000_000n;
  const nanos = ns % 1_000_000_000n;
  const date = new Date(Number(seconds) * 1000).toISOString();
  const fraction = nanos === 0n ? '' : `.${nanos.toString().padStart(9, '0').replace(/0+$/, '')}`;
  return `${date.slice(0, 10)} ${date.slice(11, 19)}${fraction} +0000 UTC`;
}

/** Prometheus `labels.Labels.String()`: sorted, `{a="x", b="y"}`, values quoted like Go's strconv.Quote. */
export function goLabelsString(labels: ReadonlyMap<string, string>): string {
  const names = [...labels.keys()].sort();
  return `{${names.map((n) => `${n}=${goQuote(labels.get(n) ?? '')}`).join(', ')}}`;
}

const GO_ESCAPES: Readonly<Record<string, string>> = { '\u0007': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v', '\\': '\\\\', '"': '\\"' };
const GO_PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

export function goQuote(value: string): string {
  let out = '"';
  for (const ch of value) {
    const escaped = GO_ESCAPES[ch];
    if (escaped !== undefined) out += escaped;
    else if (GO_PRINTABLE.test(ch)) out += ch;
    else {
      const cp = ch.codePointAt(0) ?? 0;
      out += cp < 0x80 ? `\\x${cp.toString(16).padStart(2, '0')}` : cp <= 0xffff ? `\\u${cp.toString(16).padStart(4, '0')}` : `\\U${cp.toString(16).padStart(8, '0')}`;
    }
  }
  return `${out}"`;
}

/** Parses a LogQL stream selector as pushed, `{a="x", b="y\n"}`. Throws on anything else. */
export function parseLabelString(text: string): Map<string, string> {
  const labels = new Map<string, string>();
  let i = 0;
  const skipSpace = (): void => {
    while (i < text.length && /\s/.test(text[i] ?? '')) i++;
  };
  const expect = (ch: string): void => {
    if (text[i] !== ch) throw new Error(`parse error at ${i}: expected ${JSON.stringify(ch)}`);
    i++;
  };
  skipSpace();
  expect('{');
  skipSpace();
  if (text[i] === '}') return labels;
  for (;;) {
    skipSpace();
    const name = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(text.slice(i))?.[0];
    if (name === undefined) throw new Error(`parse error at ${i}: expected a label name`);
    i += name.length;
    skipSpace();
    expect('=');
    skipSpace();
    expect('"');
    let value = '';
    for (;;) {
      const ch = text[i];
      if (ch === undefined) throw new Error('parse error: unterminated string');
      i++;
      if (ch === '"') break;
      if (ch !== '\\') {
        value += ch;
        continue;
      }
      const esc = text[i++];
      const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"', a: '\u0007', b: '\b', f: '\f', v: '\v' };
      if (esc !== undefined && simple[esc] !== undefined) value += simple[esc];
      else if (esc === 'x' || esc === 'u' || esc === 'U') {
        const len = esc === 'x' ? 2 : esc === 'u' ? 4 : 8;
        value += String.fromCodePoint(Number.parseInt(text.slice(i, i + len), 16));
        i += len;
      } else throw new Error(`parse error: bad escape \\${esc ?? ''}`);
    }
    if (labels.has(name)) throw new Error(`duplicate label name ${name}`);
    labels.set(name, value);
    skipSpace();
    if (text[i] === ',') {
      i++;
      continue;
    }
    expect('}');
    skipSpace();
    if (i !== text.length) throw new Error(`parse error at ${i}: trailing characters`);
    return labels;
  }
}
