/** The checkpoint: where the source resumes, and which occurrences were already shipped. */
import type { KubeConfig } from '@kubernetes/client-node';
import { createConfigMapCheckpointStore } from './configmap-store.js';
import { createFileCheckpointStore } from './file-store.js';
import type { CheckpointStore } from './record.js';

export type { CheckpointRecord, CheckpointStore, LegacyRecords, LoadResult } from './record.js';
export { parseCheckpoint, serializeCheckpoint } from './record.js';
export { createFileCheckpointStore } from './file-store.js';
export { createConfigMapCheckpointStore, CHECKPOINT_KEY } from './configmap-store.js';
export type { ConfigMapStoreOptions } from './configmap-store.js';
export { ShippedCounts, DEFAULT_SHIPPED_COUNTS_CAPACITY } from './shipped-counts.js';
export { keyOf, legacyKeyOf, type KeyHash } from './id-hash.js';
export { CheckpointConflictError, CheckpointForeignError, CheckpointReadError, CheckpointWriteError } from './errors.js';

/**
 * The store the options ask for: `--checkpoint-configmap` wins over `--checkpoint-file`; neither
 * means no checkpoint (undefined).
 */
export function createCheckpointStore(
  options: { readonly file?: string | undefined; readonly configMap?: { readonly namespace: string; readonly name: string } | undefined },
  deps: { readonly kubeConfig: KubeConfig },
): CheckpointStore | undefined {
  if (options.configMap) return createConfigMapCheckpointStore(options.configMap, deps);
  if (options.file) return createFileCheckpointStore(options.file);
  return undefined;
}
