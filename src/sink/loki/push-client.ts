/**
 * One HTTP push to Loki through an undici Pool the sink owns. Never throws: every way a push can
 * end is a SendResult, so the retry loop branches on data, not on exceptions.
 */
import { Buffer } from 'node:buffer';
import { Pool } from 'undici';
import type { Clock } from '../../core/clock.js';
import type { ResolvedLokiSinkOptions } from './options.js';

export type SendResult =
  | { readonly kind: 'delivered'; readonly statusCode: number }
  | {
      readonly kind: 'retryable';
      /** The HTTP status, or why no status came. */
      readonly failure: number | 'network_error' | 'timeout';
      /** From a `Retry-After` header, when the server sent one. */
      readonly afterMs?: number;
      readonly detail: string;
    }
  | { readonly kind: 'rejected'; readonly statusCode: number; readonly body: string }
  /** The caller's signal aborted the push (shutdown deadline). */
  | { readonly kind: 'aborted' };

/** Loki's reply is logged and reported cut to this many bytes. */
export const MAX_REPLY_BYTES = 1024;

export interface LokiPushClient {
  send(body: Uint8Array, signal: AbortSignal): Promise<SendResult>;
  close(): Promise<void>;
}

export function createLokiPushClient(options: ResolvedLokiSinkOptions, clock: Clock): LokiPushClient {
  const url = options.pushUrl;
  const pool = new Pool(url.origin, {
    // One batch is in flight at a time; a second connection covers a reset one being replaced.
    connections: 2,
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
    connect: lokiConnectOptions(options),
  });
  const headers = { ...lokiHeaders(options), 'content-type': 'application/x-protobuf' };
  const path = url.pathname + url.search;

  return {
    async send(body, signal) {
      if (signal.aborted) return { kind: 'aborted' };
      const timeout = new AbortController();
      const timer = setTimeout(() => timeout.abort(), options.timeoutMs);
      try {
        const response = await pool.request({
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
        const reply = await readCut(response.body, MAX_REPLY_BYTES);
        if (statusCode === 429 || (statusCode >= 500 && statusCode !== 501)) {
          const afterMs = parseRetryAfter(response.headers['retry-after'], clock.now());
          return { kind: 'retryable', failure: statusCode, detail: reply, ...(afterMs !== undefined ? { afterMs } : {}) };
        }
        return { kind: 'rejected', statusCode, body: reply };
      } catch (err) {
        if (signal.aborted) return { kind: 'aborted' };
        const timedOut = timeout.signal.aborted || isUndiciTimeout(err);
        return { kind: 'retryable', failure: timedOut ? 'timeout' : 'network_error', detail: describe(err) };
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {
      await pool.destroy();
    },
  };
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
