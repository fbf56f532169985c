import { ShipperError } from '../../core/errors.js';

/** A push body that is not valid raw-snappy + protobuf in Loki's push format. */
export class PushDecodeError extends ShipperError {
  readonly code = 'E_PUSH_DECODE';
}

/** Loki answered a push with a 4xx other than 429 (or 501): the batch is dropped, not retried. */
export class LokiRejectedError extends ShipperError {
  readonly code = 'E_LOKI_REJECTED';
  constructor(
    readonly statusCode: number,
    readonly body: string,
  ) {
    super(`Loki rejected the push with HTTP ${statusCode}`);
  }
}

/** Loki could not take a push right now (429, 5xx, network error, timeout); the push is retried. */
export class LokiUnavailableError extends ShipperError {
  readonly code = 'E_LOKI_UNAVAILABLE';
}

