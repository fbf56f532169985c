import { ShipperError } from '../core/errors.js';

/** The checkpoint could not be read (I/O or API error, not a bad record). */
export class CheckpointReadError extends ShipperError {
  readonly code = 'E_CHECKPOINT_READ';
}

/** The checkpoint could not be written. */
export class CheckpointWriteError extends ShipperError {
  readonly code = 'E_CHECKPOINT_WRITE';
}

/** The ConfigMap named for the checkpoint exists and belongs to someone else: we do not overwrite it. */
export class CheckpointForeignError extends ShipperError {
  readonly code = 'E_CHECKPOINT_FOREIGN';
}
