/**
 * Asks Loki whether it is ready (`GET <url>/ready`), with the sink's auth, tenant and TLS options:
 * for the `check` command and start-up diagnostics. Never throws.
 */
import { Agent, request } from 'undici';
import { lokiConnectOptions, lokiHeaders, MAX_REPLY_BYTES } from './push-client.js';
import { resolveLokiSinkOptions, type LokiSinkOptions } from './options.js';

export type LokiProbeResult =
  | { readonly kind: 'ready' }
  | { readonly kind: 'not_ready'; readonly statusCode: number; readonly body: string }
  | { readonly kind: 'unreachable'; readonly detail: string };

export async function probeLoki(options: LokiSinkOptions): Promise<LokiProbeResult> {
  const resolved = resolveLokiSinkOptions(options);
  const base = new URL(options.url);
  const url = new URL(`${base.pathname.replace(/\/+$/, '')}/ready`, base.origin);
  const agent = new Agent({ connect: lokiConnectOptions(resolved) });
  const headers = lokiHeaders(resolved);
  try {
    const response = await request(url, { method: 'GET', headers, dispatcher: agent, signal: AbortSignal.timeout(resolved.timeoutMs) });
    const body = (await response.body.text()).slice(0, MAX_REPLY_BYTES);
    return response.statusCode === 200 ? { kind: 'ready' } : { kind: 'not_ready', statusCode: response.statusCode, body };
  } catch (err) {
    return { kind: 'unreachable', detail: err instanceof Error ? err.message : String(err) };
  } finally {
    await agent.close();
  }
}
