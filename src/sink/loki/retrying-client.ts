/**
 * Retrying as a decorator around the push client (as OpenTelemetry JS's exporters wrap their
 * transport): a retryable answer is logged, reported as the sink being unavailable and tried again
 * after a backoff, up to `maxRetries` times; every other answer, the last retryable one when the
 * retries run out, or `aborted` when shutdown ends a backoff, is returned to the caller. Every
 * attempt is counted in the push metrics.
 */
import { Backoff, type BackoffOptions } from '../../core/backoff.js';
import type { SinkDeps } from '../deps.js';
import type { ResolvedLokiSinkOptions } from './options.js';
import type { LokiPushClient, SendResult } from './push-client.js';

/** The longest pause a server's Retry-After can impose. */
const MAX_RETRY_AFTER_MS = 5 * 60_000;
/** Longest failure detail put into a log line or an outcome. */
export const MAX_DETAIL_CHARS = 1_024;

type RetryOptions = Pick<ResolvedLokiSinkOptions, 'pushUrl' | 'minBackoffMs' | 'maxBackoffMs' | 'maxRetries'>;

export class RetryingPushClient implements LokiPushClient {
  /**
   * Full jitter over 500 ms · 2^attempt capped at 5 s (by default). A Retry-After wins, up to 5
   * minutes (a server that asks for a pause gets it), but never below the minimum backoff.
   */
  private readonly backoff: BackoffOptions;
  /** A push was answered 404 or a redirect, and nothing answered properly since: logged once. */
  private misrouted = false;

  constructor(
    private readonly inner: LokiPushClient,
    private readonly options: RetryOptions,
    private readonly deps: SinkDeps,
  ) {
    this.backoff = { initialMs: options.minBackoffMs, maxMs: options.maxBackoffMs, jitter: { kind: 'full' }, maxServerDelayMs: MAX_RETRY_AFTER_MS };
  }

  async send(body: Uint8Array, signal: AbortSignal): Promise<SendResult> {
    const { metrics, logger, clock, random, progress } = this.deps;
    const backoff = new Backoff(this.backoff, clock, random);
    for (let attempt = 0; ; attempt++) {
      const started = clock.now();
      const result = await this.inner.send(body, signal);
      if (result.kind === 'aborted') return result;
      metrics.pushRequests.inc({ status_code: statusLabel(result) });
      metrics.pushDuration.observe(Math.max(0, clock.now() - started) / 1000);
      if (result.kind !== 'retryable') {
        this.pushWorks();
        return result;
      }
      const summary = `${typeof result.failure === 'number' ? `HTTP ${result.failure}` : result.failure} from ${this.options.pushUrl.href}`;
      progress.sinkUnavailable({ cause: result.cause, summary });
      // A long outage retries every few seconds: log the first tries, then one in twenty.
      const loud = attempt < 3 || attempt % 20 === 0;
      if (result.cause === 'auth') {
        // Credentials may be rotating: read the files again before the retry, whatever their times say.
        const changed = this.inner.reloadCredentials();
        if (loud || changed) logger.warn({ statusCode: result.failure, credentialsChanged: changed, detail: cutDetail(result.detail) }, 'Loki refused the credentials; read them again, retrying');
      } else if (result.cause === 'misrouted' && !this.misrouted) {
        this.misrouted = true;
        logger.error(
          { code: 'E_LOKI_MISROUTED', url: this.options.pushUrl.href, statusCode: result.failure, detail: cutDetail(result.detail) },
          'the Loki push URL does not reach Loki (404 or redirect): a configuration problem, check --loki-url and the ingress; retrying until it works',
        );
      }
      if (attempt >= this.options.maxRetries) return result;
      const delayMs = backoff.next(result.afterMs);
      if (loud) logger.warn({ failure: result.failure, detail: cutDetail(result.detail), attempt: attempt + 1, delayMs }, 'Loki push failed; retrying');
      metrics.pushRetries.inc();
      try {
        await clock.sleep(delayMs, signal);
      } catch {
        return { kind: 'aborted' };
      }
    }
  }

  reloadCredentials(): boolean {
    return this.inner.reloadCredentials();
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  /** Loki answered: a misrouting logged before is over. */
  private pushWorks(): void {
    if (!this.misrouted) return;
    this.misrouted = false;
    this.deps.logger.info({ url: this.options.pushUrl.href }, 'the Loki push URL reaches Loki again');
  }
}

export function cutDetail(text: string): string {
  return text.length > MAX_DETAIL_CHARS ? text.slice(0, MAX_DETAIL_CHARS) : text;
}

function statusLabel(result: Exclude<SendResult, { kind: 'aborted' }>): string {
  switch (result.kind) {
    case 'delivered':
    case 'refused':
    case 'too_large':
      return String(result.statusCode);
    case 'retryable':
      return String(result.failure);
  }
}
