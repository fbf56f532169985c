/**
 * Raw JSON requests to the API server through `@kubernetes/client-node`'s own auth path (the one
 * its `Watch` uses): kubeconfig or in-cluster credentials, TLS and proxies all come from there, and
 * the JSON stays exactly as sent (the typed clients turn MicroTime into millisecond Dates).
 */
import { HttpMethod, RequestContext, type KubeConfig } from '@kubernetes/client-node';
import { fetch } from 'undici';
import { ShipperError } from '../core/errors.js';

/** The API server could not be reached at all (DNS, TCP, TLS, timeout). */
export class KubeUnreachableError extends ShipperError {
  readonly code = 'E_K8S_UNREACHABLE';
}

export interface KubeResponse {
  readonly status: number;
  /** Parsed JSON body, or `undefined` when the body was empty or not JSON. */
  readonly body: unknown;
}

export type KubeRequest = (
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  path: string,
  options?: { readonly body?: unknown; readonly signal?: AbortSignal; readonly timeoutMs?: number },
) => Promise<KubeResponse>;

const METHODS = { GET: HttpMethod.GET, POST: HttpMethod.POST, PUT: HttpMethod.PUT, DELETE: HttpMethod.DELETE } as const;

export function createKubeRequest(kc: KubeConfig): KubeRequest {
  return async (method, path, options = {}) => {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new KubeUnreachableError('the kubeconfig has no current cluster');
    const url = cluster.server.replace(/\/+$/, '') + path;
    const ctx = new RequestContext(url, METHODS[method]);
    await kc.applySecurityAuthentication(ctx);
    const headers = ctx.getHeaders();
    headers['accept'] = 'application/json';
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const signals = [AbortSignal.timeout(options.timeoutMs ?? 10_000)];
    if (options.signal) signals.push(options.signal);
    let response;
    try {
      response = await fetch(url, {
        method,
        headers,
        dispatcher: ctx.getDispatcher(),
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: AbortSignal.any(signals),
      });
    } catch (err) {
      if (options.signal?.aborted) throw err;
      throw new KubeUnreachableError(`cannot reach the API server at ${cluster.server}`, { cause: err });
    }
    const text = await response.text();
    let body: unknown;
    try {
      body = text === '' ? undefined : (JSON.parse(text) as unknown);
    } catch {
      body = undefined;
    }
    return { status: response.status, body };
  };
}
