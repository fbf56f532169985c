/**
 * One HTTP push to Loki through an undici Pool the sink owns. Never throws: every way a push can
 * end is a SendResult, so the retry loop branches on data, not on exceptions.
 */
import { Buffer } from 'node:buffer';
import { Pool } from 'undici';
import type { Logger } from 'pino';
import type { Clock } from '../../core/clock.js';
import { createLokiCredentials, type CredentialValues } from './credentials.js';
import type { ResolvedLokiSinkOptions } from './options.js';

export type SendResult =
  | { readonly kind: 'delivered'; readonly statusCode: number }
  | {
      readonly kind: 'retryable';
      /** The HTTP status, or why no status came. */
      readonly failure: number | 'network_error' | 'timeout';
      /**
       * What the failure says about the setup: `auth` (401/403: credentials may be rotating),
       * `misrouted` (404 or a redirect: the URL reaches something that is not Loki's push API),
       * `unavailable` (everything else: 408, 429, 5xx, other 4xx, network, timeout).
       */
      readonly cause: 'auth' | 'misrouted' | 'unavailable';
      /** From a `Retry-After` header, when the server sent one. */
      readonly afterMs?: number;
      readonly detail: string;
    }
  /** 400: Loki refused some or all entries (a partial 400 stored the rest). */
  | { readonly kind: 'refused'; readonly statusCode: number; readonly body: string }
  /** 413: the body is larger than something between us and Loki accepts. */
  | { readonly kind: 'too_large'; readonly statusCode: number; readonly body: string }
  /** The caller's signal aborted the push (shutdown deadline). */
  | { readonly kind: 'aborted' };

/** Loki's reply is logged and reported cut to this many bytes. */
export const MAX_REPLY_BYTES = 1024;
/** A 400 is read this far: it names the refused entries (10 per stream, or one line per distinct refusal). */
const MAX_REFUSAL_BYTES = 1024 * 1024;

export interface LokiPushClient {
  send(body: Uint8Array, signal: AbortSignal): Promise<SendResult>;
  /** Reads the credential files again now (after a 401/403); true when something changed. */
  reloadCredentials(): boolean;
  close(): Promise<void>;
}

export function createLokiPushClient(options: ResolvedLokiSinkOptions, clock: Clock, logger: Logger): LokiPushClient {
  const url = options.pushUrl;
  const credentials = createLokiCredentials(
    {
      ...(options.bearerToken !== undefined ? { bearerToken: options.bearerToken } : {}),
      ...(options.basicAuth !== undefined ? { password: options.basicAuth.password } : {}),
      ...options.tls,
    },
    options.secretFiles ?? {},
    clock,
    logger,
  );
  const makePool = (): Pool =>
    new Pool(url.origin, {
      // One batch is in flight at a time; a second connection covers a reset one being replaced.
      connections: 2,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      connect: lokiConnectOptions(withCredentials(options, credentials.values())),
    });
  let pool = makePool();
  let poolTlsVersion = credentials.tlsVersion();
  const path = url.pathname + url.search;
  /** Picks up rotated credentials: new headers every time, a new pool when TLS material changed. */
  const current = (): { pool: Pool; headers: Record<string, string> } => {
    if (credentials.tlsVersion() !== poolTlsVersion) {
      const old = pool;
      pool = makePool();
      poolTlsVersion = credentials.tlsVersion();
      // Nothing is in flight between two sends; close lets any leftover request finish.
      old.close().catch(() => undefined);
    }
    return { pool, headers: { ...lokiHeaders(withCredentials(options, credentials.values())), 'content-type': 'application/x-protobuf' } };
  };

  return {
    async send(body, signal) {
      if (signal.aborted) return { kind: 'aborted' };
      credentials.refresh(false);
      const { pool: target, headers } = current();
      const timeout = new AbortController();
      const timer = setTimeout(() => timeout.abort(), options.timeoutMs);
      try {
        const response = await target.request({
          method: 'POST',
          path,
          headers,
          body,
          signal: AbortSignal.any([signal, timeout.signal]),
        });
        const { statusCode } = response;
        if (statusCode >= 200 && statusCode < 300) {
          await response.body.dump();
          return { kind: 'delivered', statusCode };
        }
        if (statusCode === 400) return { kind: 'refused', statusCode, body: await readCut(response.body, MAX_REFUSAL_BYTES) };
        const reply = await readCut(response.body, MAX_REPLY_BYTES);
        if (statusCode === 413) return { kind: 'too_large', statusCode, body: reply };
        const afterMs = parseRetryAfter(response.headers['retry-after'], clock.now());
        const cause = statusCode === 401 || statusCode === 403 ? 'auth' : statusCode === 404 || (statusCode >= 300 && statusCode < 400) ? 'misrouted' : 'unavailable';
        const location = header(response.headers.location);
        const detail = cause === 'misrouted' && location !== undefined ? `redirect to ${location}` : reply;
        return { kind: 'retryable', failure: statusCode, cause, detail, ...(afterMs !== undefined ? { afterMs } : {}) };
      } catch (err) {
        if (signal.aborted) return { kind: 'aborted' };
        const timedOut = timeout.signal.aborted || isUndiciTimeout(err);
        return { kind: 'retryable', failure: timedOut ? 'timeout' : 'network_error', cause: 'unavailable', detail: describe(err) };
      } finally {
        clearTimeout(timer);
      }
    },
    reloadCredentials: () => credentials.refresh(true).length > 0,
    async close() {
      await pool.destroy();
    },
  };
}

/** The options with the newest credential values in place of the ones read at start. */
function withCredentials(options: ResolvedLokiSinkOptions, values: Readonly<CredentialValues>): ResolvedLokiSinkOptions {
  return {
    ...options,
    ...(options.bearerToken !== undefined && values.bearerToken !== undefined ? { bearerToken: values.bearerToken } : {}),
    ...(options.basicAuth !== undefined && values.password !== undefined ? { basicAuth: { username: options.basicAuth.username, password: values.password } } : {}),
    tls: {
      ...options.tls,
      ...(values.ca !== undefined ? { ca: values.ca } : {}),
      ...(values.cert !== undefined ? { cert: values.cert } : {}),
      ...(values.key !== undefined ? { key: values.key } : {}),
    },
  };
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Extra headers, user agent, tenant and auth: what every request to Loki carries. */
export function lokiHeaders(options: ResolvedLokiSinkOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(options.headers ?? {})) headers[name.toLowerCase()] = value;
  headers['user-agent'] = options.userAgent;
  if (options.tenant !== undefined && options.tenant !== '') headers['x-scope-orgid'] = options.tenant;
  if (options.basicAuth !== undefined) {
    const { username, password } = options.basicAuth;
    headers.authorization = `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
  }
  if (options.bearerToken !== undefined) headers.authorization = `Bearer ${options.bearerToken.trim()}`;
  return headers;
}

/** undici connect options: timeout and TLS material. */
export function lokiConnectOptions(options: ResolvedLokiSinkOptions): Pool.Options['connect'] {
  const tls = options.tls;
  return {
    timeout: options.timeoutMs,
    ...(tls?.ca !== undefined ? { ca: toPem(tls.ca) } : {}),
    ...(tls?.cert !== undefined ? { cert: toPem(tls.cert) } : {}),
    ...(tls?.key !== undefined ? { key: toPem(tls.key) } : {}),
    rejectUnauthorized: tls?.insecureSkipVerify !== true,
  };
}

function toPem(value: string | Uint8Array): string | Buffer {
  return typeof value === 'string' ? value : Buffer.from(value);
}

/** `Retry-After` as delay-seconds or an HTTP date, in ms from now; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, nowMs: number): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined || text.trim() === '') return undefined;
  if (/^\s*\d+\s*$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
}

async function readCut(body: AsyncIterable<Buffer> & { destroy(): unknown }, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let length = 0;
  try {
    for await (const chunk of body) {
      chunks.push(chunk);
      length += chunk.length;
      if (length >= limit) break;
    }
  } catch {
    // A reply cut short still tells us its status; what we read of it is enough.
  }
  body.destroy();
  return Buffer.concat(chunks).subarray(0, limit).toString('utf8');
}

function isUndiciTimeout(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT';
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as { code?: unknown }).code;
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return `${typeof code === 'string' ? `${code} ` : ''}${err.message}${cause}`;
}
