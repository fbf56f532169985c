/** The sink and transform options from the configuration (secrets pass through, never logged). */
import type { Config } from '../config/index.js';
import type { LokiSinkOptions } from '../sink/loki/index.js';
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
 * Retries of one batch before it is dropped, per command. `run` never gives up: a dropped batch
 * would let the checkpoint pass events Loki never stored, so an outage of any length only pauses
 * shipping (the queue fills, reading pauses). `replay` is a one-shot that must end: bounded.
 */
const MAX_RETRIES = {
  run: Number.POSITIVE_INFINITY,
  replay: 10,
} as const;

export type SinkCommand = keyof typeof MAX_RETRIES;

/** The Loki sink options a command runs with: the configuration plus that command's retry bound. */
export function commandSinkOptions(command: SinkCommand, config: Config, url: string): LokiSinkOptions {
  return { ...lokiSinkOptions(config, url), maxRetries: MAX_RETRIES[command] };
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
