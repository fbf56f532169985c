/** The Loki sink's public API. */
export { createLokiSink } from './loki-sink.js';
export type { SinkDeps } from '../deps.js';
export { LOKI_SINK_DEFAULTS, resolveLokiSinkOptions, type LokiSinkOptions, type LokiTlsOptions, type ResolvedLokiSinkOptions } from './options.js';
export { encodePushBody, encodePushRequest, type PushEntry, type PushStream } from './codec.js';
export { decodePushBody, decodePushRequest } from './push-decode.js';
export { escapeLabelValue, formatLabels, sanitizeLabelName } from './labels.js';
export { LokiRejectedError, LokiUnavailableError, PushDecodeError } from './errors.js';
export { parseRetryAfter, type SendResult } from './push-client.js';
export { probeLoki, type LokiProbeResult } from './probe.js';
