/**
 * Raw requests to the API server through the same auth path as client-node's `Watch`: a
 * `RequestContext`, `applySecurityAuthentication`, then undici `fetch` with the context's headers
 * and dispatcher (TLS, client certificates, tokens). The JSON comes back as sent: the typed
 * clients turn timestamps into millisecond `Date`s, which would break byte-identical re-sends.
 */
import { HttpMethod, RequestContext } from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';
import { fetch } from 'undici';

export interface KubeResponse {
  readonly status: number;
  /** Parsed JSON body, or undefined when the body was empty or not JSON. */
  readonly body: unknown;
}

export interface KubeRequestOptions {
  readonly method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  readonly body?: unknown;
  readonly contentType?: string;
  readonly signal?: AbortSignal;
  /** Whole-request timeout, body included. */
  readonly timeoutMs?: number;
}

const METHODS = {
  GET: HttpMethod.GET,
  POST: HttpMethod.POST,
  PUT: HttpMethod.PUT,
  PATCH: HttpMethod.PATCH,
  DELETE: HttpMethod.DELETE,
} as const;

/** The API server base URL of the current context, without a trailing slash. */
export function serverUrl(kc: KubeConfig): string {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  return cluster.server.replace(/\/+$/, '');
}

/** One request; network errors and timeouts reject, HTTP errors resolve with their status. */
export async function kubeRequest(kc: KubeConfig, pathAndQuery: string, options: KubeRequestOptions = {}): Promise<KubeResponse> {
  const method = options.method ?? 'GET';
  const ctx = new RequestContext(serverUrl(kc) + pathAndQuery, METHODS[method]);
  await kc.applySecurityAuthentication(ctx);
  const headers: Record<string, string> = { ...ctx.getHeaders(), accept: 'application/json' };
  if (options.body !== undefined) headers['content-type'] = options.contentType ?? 'application/json';
  const signals: AbortSignal[] = [];
  if (options.signal) signals.push(options.signal);
  if (options.timeoutMs !== undefined) signals.push(AbortSignal.timeout(options.timeoutMs));
  const res = await fetch(ctx.getUrl(), {
    method,
    headers,
    dispatcher: ctx.getDispatcher(),
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    ...(signals.length > 0 ? { signal: AbortSignal.any(signals) } : {}),
  });
  const text = await res.text();
  let body: unknown;
  try {
    body = text === '' ? undefined : (JSON.parse(text) as unknown);
  } catch {
    body = undefined;
  }
  return { status: res.status, body };
}

/** The `message` of a Kubernetes `Status` body, if there is one. */
export function statusMessage(body: unknown): string | undefined {
  if (typeof body === 'object' && body !== null && 'message' in body) {
    const m = (body as { message?: unknown }).message;
    if (typeof m === 'string') return m;
  }
  return undefined;
}
