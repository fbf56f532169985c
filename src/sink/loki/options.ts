import { ConfigError } from '../../core/errors.js';
import type { LokiSecretFiles } from './credentials.js';

/** TLS material as contents (PEM), not paths: the config module reads the files. */
export interface LokiTlsOptions {
  /** CA certificate(s) to trust instead of the system store. */
  readonly ca?: string | Uint8Array;
  /** Client certificate for mutual TLS. */
  readonly cert?: string | Uint8Array;
  readonly key?: string | Uint8Array;
  /** Do not verify the server's certificate. Default false. */
  readonly insecureSkipVerify?: boolean;
}

/** What the config module fills to build a Loki sink. Only `url` is required. */
export interface LokiSinkOptions {
  /** Loki's base URL (may carry a path prefix); pushes go to `<url>/loki/api/v1/push`. */
  readonly url: string;
  /** Sent as `X-Scope-OrgID`. Default: none. */
  readonly tenant?: string;
  /** Basic auth; the password comes from a file or env, read by the config module. */
  readonly basicAuth?: { readonly username: string; readonly password: string };
  /** Sent as `Authorization: Bearer …` (the token file's content). */
  readonly bearerToken?: string;
  /** Extra request headers. Content-Type, tenant and auth options win over these. */
  readonly headers?: Readonly<Record<string, string>>;
  readonly tls?: LokiTlsOptions;
  /**
   * The files the token, password and TLS material above were read from. The sink reads them
   * again when they change on disk (a rotated Secret) and before retrying after a 401/403.
   */
  readonly secretFiles?: LokiSecretFiles;
  /** One push request, connect to last response byte. Default 10 s. */
  readonly timeoutMs?: number;
  /** A batch is sent when its entries reach this many bytes (uncompressed). Default 1 MiB. */
  readonly batchMaxBytes?: number;
  /** A batch is sent when it holds this many entries. Default 10 000. */
  readonly batchMaxEntries?: number;
  /** A batch is sent this long after its first entry arrived. Default 1 s. */
  readonly batchMaxWaitMs?: number;
  /** Bytes of entries the sink holds (queued and in flight) before `write` pauses the producer. Default 16 MiB. */
  readonly queueMaxBytes?: number;
  /** Send structured metadata; switch off for Loki servers that refuse it (schema < v13). Default true. */
  readonly structuredMetadata?: boolean;
  /** First retry delay (before full jitter), and the floor under a server's Retry-After. Default 500 ms. */
  readonly minBackoffMs?: number;
  /**
   * Retry delay cap. Default 5 s: however long Loki was away, a retry comes within 5 s of its
   * return (one request at a time, so this costs Loki little). A one-shot may wait longer.
   */
  readonly maxBackoffMs?: number;
  /**
   * Retries of one batch before its entries are dropped (`retries_exhausted`). Default 10.
   * `Infinity` retries for ever at the capped backoff: what a daemon wants, since a dropped batch
   * only comes back after a restart (the pipeline keeps its checkpoint before it). A bounded count
   * suits one-shot runs such as `replay`.
   */
  readonly maxRetries?: number;
  /** Default `kube-event-shipper`. */
  readonly userAgent?: string;
}

export const LOKI_SINK_DEFAULTS = {
  timeoutMs: 10_000,
  batchMaxBytes: 1024 * 1024,
  batchMaxEntries: 10_000,
  batchMaxWaitMs: 1_000,
  queueMaxBytes: 16 * 1024 * 1024,
  structuredMetadata: true,
  minBackoffMs: 500,
  maxBackoffMs: 5_000,
  maxRetries: 10,
  userAgent: 'kube-event-shipper',
} as const;

type Defaulted = keyof typeof LOKI_SINK_DEFAULTS;
export type ResolvedLokiSinkOptions = Omit<LokiSinkOptions, Defaulted> &
  Required<Pick<LokiSinkOptions, Defaulted>> & { readonly pushUrl: URL };

/** Fills defaults and checks what the sink cannot work with; throws ConfigError. */
export function resolveLokiSinkOptions(options: LokiSinkOptions): ResolvedLokiSinkOptions {
  let base: URL;
  try {
    base = new URL(options.url);
  } catch {
    throw new ConfigError(`Loki URL is not a valid URL: ${JSON.stringify(options.url)}`);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') {
    throw new ConfigError(`Loki URL must be http or https, got ${base.protocol}`);
  }
  if (base.username !== '' || base.password !== '') {
    throw new ConfigError('Loki URL must not carry credentials; use basic auth options');
  }
  const pushUrl = new URL(`${base.pathname.replace(/\/+$/, '')}/loki/api/v1/push`, base.origin);
  const resolved = { ...LOKI_SINK_DEFAULTS, ...withoutUndefined(options), url: options.url, pushUrl };
  for (const key of ['timeoutMs', 'batchMaxBytes', 'batchMaxEntries', 'batchMaxWaitMs', 'queueMaxBytes', 'minBackoffMs', 'maxBackoffMs'] as const) {
    const value = resolved[key];
    if (!Number.isFinite(value) || value <= 0) throw new ConfigError(`Loki sink option ${key} must be a positive number, got ${value}`);
  }
  if (!(Number.isInteger(resolved.maxRetries) || resolved.maxRetries === Number.POSITIVE_INFINITY) || resolved.maxRetries < 0) {
    throw new ConfigError(`Loki sink option maxRetries must be a whole number ≥ 0 or Infinity, got ${resolved.maxRetries}`);
  }
  if (resolved.basicAuth !== undefined && resolved.bearerToken !== undefined) {
    throw new ConfigError('Loki basic auth and bearer token cannot both be set');
  }
  return resolved;
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
