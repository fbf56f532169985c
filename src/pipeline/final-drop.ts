/** Why its own module: the rule deciding whether a drop is final is what lets the checkpoint pass an entry. */
import type { SinkDropReason } from '../core/entry.js';

/**
 * Whether a drop is the occurrence's final outcome. Loki refusing it (a 400: `loki_rejected` or a
 * named reason) or it being too large will not change on a re-send; `shutdown` and
 * `retries_exhausted` only mean Loki did not take it yet, so the checkpoint must not pass it.
 */
export function isFinalDrop(reason: SinkDropReason): boolean {
  switch (reason) {
    case 'too_far_behind':
    case 'too_old':
    case 'too_new':
    case 'line_too_long':
    case 'too_many_labels':
    case 'invalid_labels':
    case 'structured_metadata':
    case 'loki_rejected':
    case 'too_large':
      return true;
    case 'retries_exhausted':
    case 'shutdown':
      return false;
  }
}
