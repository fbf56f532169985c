/** How a list or watch request failed, as the reflector decides what to do next (see Reflector.failed). */
import { statusMessage } from '../kube/request.js';
import { KubeRequestError } from './errors.js';

export type Failure =
  | { readonly kind: 'gone' }
  | { readonly kind: 'auth'; readonly status: number; readonly message: string | undefined }
  | { readonly kind: 'not_found' }
  /** 400: the request itself is wrong (an unsupported field selector): configuration, not a passing fault. */
  | { readonly kind: 'invalid'; readonly message: string | undefined }
  | { readonly kind: 'error'; readonly err: unknown; readonly status?: number };

/** The failure an HTTP answer other than 200 means; `body` is the parsed answer (a Kubernetes Status, usually). */
export function failureOfStatus(status: number, body: unknown): Failure {
  const message = statusMessage(body);
  if (status === 410) return { kind: 'gone' };
  if (status === 401 || status === 403) return { kind: 'auth', status, message };
  if (status === 404) return { kind: 'not_found' };
  if (status === 400) return { kind: 'invalid', message };
  return requestError(status, body);
}

/** An answer that is a passing fault (5xx, 429, an unexpected status): retried with backoff. */
export function requestError(status: number, body: unknown): Failure {
  return { kind: 'error', status, err: new KubeRequestError(statusMessage(body) ?? `HTTP ${status}`, status) };
}
