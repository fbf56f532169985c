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
 * The checkpoint changed since this store read or last wrote it (a ConfigMap's 409 Conflict, or a
 * file holding something else): another writer — a new leader — won. Nothing was overwritten; the
 * next save writes over what is there now, which it does only while this replica still holds its
 * term (the term fence decides).
 */
export class CheckpointConflictError extends ShipperError {
  readonly code = 'E_CHECKPOINT_CONFLICT';
}
