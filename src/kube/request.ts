/**
 * Raw JSON requests to the API server through `@kubernetes/client-node`'s own auth path (the one
 * its `Watch` uses): a `RequestContext`, `applySecurityAuthentication`, then undici `fetch` with the
 * context's headers and dispatcher, so kubeconfig or in-cluster credentials, client certificates,
 * TLS and proxies all come from client-node. The JSON comes back exactly as sent: the typed clients
 * turn MicroTime into millisecond `Date`s, which would break byte-identical re-sends.
 * Used by the source's lists, the ConfigMap checkpoint, leader election and `check`; the source's
 * watch streams (source/watch-stream.ts) take the same auth path through `authorizedRequest`.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { HttpMethod, RequestContext } from '@kubernetes/client-node/dist/gen/http/http.js';
import { fetch } from 'undici';
import type { Dispatcher } from 'undici';
import { ShipperError } from '../core/errors.js';

/** The API server could not be reached or the exchange broke off (DNS, TCP, TLS, timeout). */
export class KubeUnreachableError extends ShipperError {
  readonly code = 'E_K8S_UNREACHABLE';
}

export interface KubeResponse {
  readonly status: number;
  /** Parsed JSON body, or `undefined` when the body was empty or not JSON. */
  readonly body: unknown;
  /** Size of the body as received (UTF-16 code units of the text, about its bytes). */
  readonly bodyLength: number;
}

export type KubeMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface KubeRequestOptions {
  readonly method?: KubeMethod;
  readonly body?: unknown;
  /** For PATCH bodies; JSON otherwise. */
  readonly contentType?: string;
  readonly signal?: AbortSignal;
  /** Whole-request timeout, body included; none when left out. */
  readonly timeoutMs?: number;
}

const METHODS: Record<KubeMethod, HttpMethod> = {
  GET: HttpMethod.GET,
  POST: HttpMethod.POST,
  PUT: HttpMethod.PUT,
  PATCH: HttpMethod.PATCH,
  DELETE: HttpMethod.DELETE,
};

/** The API server base URL of the current context, without a trailing slash. */
function serverUrl(kc: KubeConfig): string {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new KubeUnreachableError('the kubeconfig has no current cluster');
  return cluster.server.replace(/\/+$/, '');
}

/** What one request to the API server goes out with, as client-node's auth path made it. */
export interface AuthorizedRequest {
  readonly url: string;
  /** The credentials' headers (bearer token, basic auth, exec plugin output). */
  readonly headers: Readonly<Record<string, string>>;
  /** Carries client certificates, the CA, TLS options and proxies; undefined for plain defaults. */
  readonly dispatcher: Dispatcher | undefined;
}

/** Runs client-node's `applySecurityAuthentication` (kubeconfig or in-cluster credentials, TLS, proxy) for one request. */
export async function authorizedRequest(kc: KubeConfig, pathAndQuery: string, method: KubeMethod = 'GET'): Promise<AuthorizedRequest> {
  const ctx = new RequestContext(serverUrl(kc) + pathAndQuery, METHODS[method]);
  await kc.applySecurityAuthentication(ctx);
  return { url: ctx.getUrl(), headers: ctx.getHeaders(), dispatcher: ctx.getDispatcher() };
}

/**
 * One request. HTTP errors resolve with their status; a network failure or timeout rejects with
 * `KubeUnreachableError` (its `cause` the underlying error), and an abort through the caller's own
 * `signal` rejects with the abort reason as is.
 */
export async function kubeRequest(kc: KubeConfig, pathAndQuery: string, options: KubeRequestOptions = {}): Promise<KubeResponse> {
  const method = options.method ?? 'GET';
  const server = serverUrl(kc);
  const auth = await authorizedRequest(kc, pathAndQuery, method);
  const headers: Record<string, string> = { ...auth.headers, accept: 'application/json' };
  if (options.body !== undefined) headers['content-type'] = options.contentType ?? 'application/json';
  const signals: AbortSignal[] = [];
  if (options.signal) signals.push(options.signal);
  if (options.timeoutMs !== undefined) signals.push(AbortSignal.timeout(options.timeoutMs));
  let text: string;
  let status: number;
  try {
    const res = await fetch(auth.url, {
      method,
      headers,
      dispatcher: auth.dispatcher,
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
      ...(signals.length > 0 ? { signal: AbortSignal.any(signals) } : {}),
    });
    status = res.status;
    text = await res.text();
  } catch (err) {
    if (options.signal?.aborted) throw err;
    throw new KubeUnreachableError(`cannot reach the API server at ${server}`, { cause: err });
  }
  let body: unknown;
  try {
    body = text === '' ? undefined : (JSON.parse(text) as unknown);
  } catch {
    body = undefined;
  }
  return { status, body, bodyLength: text.length };
}

/** `kubeRequest` bound to one KubeConfig, for modules that take a request function as a dependency. */
export type KubeRequest = (
  method: KubeMethod,
  path: string,
  options?: Omit<KubeRequestOptions, 'method'>,
) => Promise<KubeResponse>;

/** Requests without their own timeout get this one, so a hung API server cannot stall the caller. */
const DEFAULT_KUBE_TIMEOUT_MS = 10_000;

export function createKubeRequest(kc: KubeConfig): KubeRequest {
  return (method, path, options = {}) => kubeRequest(kc, path, { ...options, method, timeoutMs: options.timeoutMs ?? DEFAULT_KUBE_TIMEOUT_MS });
}

/** The `message` of a Kubernetes `Status` body, if there is one. */
export function statusMessage(body: unknown): string | undefined {
  if (typeof body === 'object' && body !== null && 'message' in body) {
    const m = (body as { message?: unknown }).message;
    if (typeof m === 'string') return m;
  }
  return undefined;
}
