/** The sink and transform options from the configuration (secrets pass through, never logged). */
import type { Config } from '../config/index.js';
import { LOKI_SINK_DEFAULTS, type LokiSinkOptions } from '../sink/loki/index.js';
import { resolveTransformOptions, type TransformOptions } from '../transform/index.js';

export function lokiSinkOptions(config: Config, url: string): LokiSinkOptions {
  const tls = config.lokiTls;
  return {
    url,
    ...(config.tenant !== undefined ? { tenant: config.tenant } : {}),
    ...(config.lokiUsername !== undefined && config.lokiPassword !== undefined
      ? { basicAuth: { username: config.lokiUsername, password: config.lokiPassword } }
      : {}),
    ...(config.lokiBearerToken !== undefined ? { bearerToken: config.lokiBearerToken } : {}),
    // Read again by the sink when they change on disk (a rotated Secret) and after a 401/403.
    secretFiles: {
      ...(config.lokiBearerTokenFile !== undefined ? { bearerToken: config.lokiBearerTokenFile } : {}),
      ...(config.lokiPasswordFile !== undefined ? { password: config.lokiPasswordFile } : {}),
      ...(config.lokiCaFile !== undefined ? { ca: config.lokiCaFile } : {}),
      ...(config.lokiCertFile !== undefined ? { cert: config.lokiCertFile } : {}),
      ...(config.lokiKeyFile !== undefined ? { key: config.lokiKeyFile } : {}),
    },
    headers: { ...config.lokiHeaders },
    tls: {
      ...(tls.ca !== undefined ? { ca: tls.ca } : {}),
      ...(tls.cert !== undefined ? { cert: tls.cert } : {}),
      ...(tls.key !== undefined ? { key: tls.key } : {}),
      insecureSkipVerify: config.lokiInsecureSkipVerify,
    },
    timeoutMs: config.lokiTimeout,
    batchMaxBytes: config.batchMaxBytes,
    batchMaxEntries: config.batchMaxEntries,
    batchMaxWaitMs: config.batchMaxWait,
    queueMaxBytes: config.queueMaxBytes,
    structuredMetadata: config.structuredMetadata,
  };
}

/**
 * How a command retries a batch. `run` never gives up: a dropped batch would let the checkpoint
 * pass events Loki never stored, so an outage of any length only pauses shipping (the queue fills,
 * reading pauses); and it retries at least every 5 s, so once Loki is back delivery resumes within
 * seconds, however long the outage was. `replay` is a one-shot that must end: ten retries with
 * the backoff growing to 5 minutes.
 */
const RETRIES = {
  run: { maxRetries: Number.POSITIVE_INFINITY, maxBackoffMs: LOKI_SINK_DEFAULTS.maxBackoffMs },
  replay: { maxRetries: 10, maxBackoffMs: 5 * 60_000 },
} as const;

export type SinkCommand = keyof typeof RETRIES;

/** The Loki sink options a command runs with: the configuration plus that command's retries. */
export function commandSinkOptions(command: SinkCommand, config: Config, url: string): LokiSinkOptions {
  return { ...lokiSinkOptions(config, url), ...RETRIES[command] };
}

/** Throws ConfigError (exit 2) for labels Loki would suffer from. */
export function transformOptions(config: Config): TransformOptions {
  return resolveTransformOptions({
    labels: config.labels,
    staticLabels: config.staticLabels,
    lineFormat: config.lineFormat,
    structuredMetadata: config.structuredMetadata,
    maxMessageBytes: config.maxMessageBytes,
    acceptWindowMs: config.acceptWindow,
  });
}

/** What the sink may spend draining: the grace period minus a margin for the checkpoint and the Lease. */
export function drainBudget(gracePeriodMs: number): number {
  return Math.max(100, Math.min(gracePeriodMs - 3000, gracePeriodMs * 0.8));
}
