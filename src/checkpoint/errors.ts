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

/**
 * The ConfigMap changed since we read or last wrote it (HTTP 409): another writer — a new leader —
 * won. Nothing was overwritten; the next save writes over what is there now only if this replica
 * still leads (the term fence decides).
 */
export class CheckpointConflictError extends ShipperError {
  readonly code = 'E_CHECKPOINT_CONFLICT';
}
