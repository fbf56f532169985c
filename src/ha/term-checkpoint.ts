/**
 * Fences the checkpoint to one leadership term. A leader that lost the Lease still drains its sink
 * and would then write its final checkpoint — possibly over the newer one the next leader has
 * written meanwhile, which would make that leader's successor re-ship. Once the term ended by
 * losing the Lease (`term` is `LeaderTerm.lost`), saves are skipped (logged at info); a shutdown
 * while leading still writes.
 */
import type { Logger } from 'pino';
import type { CheckpointRecord, CheckpointStore } from '../checkpoint/index.js';
import { lostTheLease } from './leader-election.js';

export function termCheckpointStore(store: CheckpointStore, term: AbortSignal, logger: Logger): CheckpointStore {
  return {
    description: store.description,
    load: () => store.load(),
    async save(record: CheckpointRecord): Promise<void> {
      if (lostTheLease(term)) {
        logger.info({ store: store.description }, 'checkpoint not written: this term lost the lease');
        return;
      }
      await store.save(record);
    },
  };
}
