export type { CheckpointRecord, CheckpointStore, LoadResult } from './record.js';
export { parseCheckpoint, serializeCheckpoint } from './record.js';
export { createFileCheckpointStore } from './file-store.js';
export { createConfigMapCheckpointStore, CHECKPOINT_KEY } from './configmap-store.js';
export type { ConfigMapStoreOptions } from './configmap-store.js';
export { RecentIds, hashOccurrenceId, DEFAULT_RECENT_CAPACITY } from './recent-ids.js';
export { CheckpointForeignError, CheckpointReadError, CheckpointWriteError } from './errors.js';
