/**
 * The persisted checkpoint: per watched stream the resourceVersion up to which every occurrence
 * has an outcome, the wall time that position was reached, the recent occurrence ids, and the count
 * last shipped per event.
 *
 * Version 2 hashes ids and uids with MurmurHash3 (id-hash.ts); version 1 hashed them with SHA-256.
 * A version-1 checkpoint is read with its ids and counts as `legacy`, which the pipeline keeps
 * (and writes back as `sha256RecentIds`/`sha256ShippedCounts`) until they age out.
 */
import { isBase64 } from './id-hash.js';
import { isShippedCounts } from './shipped-counts.js';

const CHECKPOINT_FORMAT = 'kube-event-shipper/checkpoint';
const CHECKPOINT_VERSION = 2;
/** The version before id hashing moved from SHA-256 to MurmurHash3: still read. */
const SHA256_CHECKPOINT_VERSION = 1;

export interface CheckpointRecord {
  /** Stream name (`*` or a namespace) → resourceVersion. */
  readonly resourceVersions: Readonly<Record<string, string>>;
  /** Wall time (ms) at which those positions were reached. */
  readonly positionTimeMs: number;
  /** `RecentIds.serialize()` of the occurrences with an outcome. */
  readonly recentIds: string;
  /**
   * `ShippedCounts.serialize()`: the count last shipped per event. Absent in checkpoints written
   * before it existed (they stay readable: every event then counts its whole count once).
   */
  readonly shippedCounts?: string | undefined;
  /**
   * The newest entry time written per Loki stream (`StreamTimes.serialize()`), so a restart knows
   * what Loki's out-of-order window allows. Optional: checkpoints written before it lack it.
   */
  readonly streamTimes?: string;
  /**
   * Ids and counts hashed with SHA-256 (`serialize('sha256')`), from a version-1 checkpoint: kept
   * beside the current ones until they age out. Absent when there are none.
   */
  readonly legacy?: LegacyRecords;
}

export interface LegacyRecords {
  readonly recentIds: string;
  readonly shippedCounts?: string | undefined;
}

export type LoadResult =
  | { readonly kind: 'found'; readonly record: CheckpointRecord }
  | { readonly kind: 'missing' }
  /** Corrupt, foreign or of an unknown version: reported and ignored. */
  | { readonly kind: 'invalid'; readonly reason: string };

/** Where the checkpoint lives: a file, or a ConfigMap. */
export interface CheckpointStore {
  /** For logs: `file /var/lib/…` or `configmap kes/checkpoint`. */
  readonly description: string;
  /** Rejects with CheckpointReadError when the store cannot be reached. */
  load(): Promise<LoadResult>;
  /** Rejects with CheckpointWriteError (or CheckpointForeignError) when the record could not be stored. */
  save(record: CheckpointRecord): Promise<void>;
}

export function serializeCheckpoint(record: CheckpointRecord): string {
  return JSON.stringify({
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    positionTime: new Date(record.positionTimeMs).toISOString(),
    resourceVersions: record.resourceVersions,
    recentIds: record.recentIds,
    ...(record.shippedCounts === undefined ? {} : { shippedCounts: record.shippedCounts }),
    ...(record.streamTimes !== undefined ? { streamTimes: record.streamTimes } : {}),
    ...(record.legacy === undefined
      ? {}
      : { sha256RecentIds: record.legacy.recentIds, ...(record.legacy.shippedCounts === undefined ? {} : { sha256ShippedCounts: record.legacy.shippedCounts }) }),
  });
}

export function parseCheckpoint(text: string): LoadResult {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return { kind: 'invalid', reason: 'not JSON' };
  }
  if (typeof v !== 'object' || v === null) return { kind: 'invalid', reason: 'not an object' };
  const o = v as Record<string, unknown>;
  if (o['format'] !== CHECKPOINT_FORMAT) return { kind: 'invalid', reason: 'not a kube-event-shipper checkpoint' };
  const version = o['version'];
  if (version !== CHECKPOINT_VERSION && version !== SHA256_CHECKPOINT_VERSION) return { kind: 'invalid', reason: `unknown checkpoint version ${JSON.stringify(version)}` };
  const time = typeof o['positionTime'] === 'string' ? Date.parse(o['positionTime']) : Number.NaN;
  if (Number.isNaN(time)) return { kind: 'invalid', reason: 'bad positionTime' };
  const rvs = o['resourceVersions'];
  if (typeof rvs !== 'object' || rvs === null || Array.isArray(rvs)) return { kind: 'invalid', reason: 'bad resourceVersions' };
  const resourceVersions: Record<string, string> = {};
  for (const [k, rv] of Object.entries(rvs as Record<string, unknown>)) {
    if (typeof rv !== 'string' || rv === '') return { kind: 'invalid', reason: `bad resourceVersion for ${k}` };
    resourceVersions[k] = rv;
  }
  const recentIds = o['recentIds'];
  if (!isRecentIds(recentIds)) return { kind: 'invalid', reason: 'bad recentIds' };
  const shippedCounts = o['shippedCounts'];
  if (shippedCounts !== undefined && (typeof shippedCounts !== 'string' || !isShippedCounts(shippedCounts))) return { kind: 'invalid', reason: 'bad shippedCounts' };
  // Only a hint for placing entries: a damaged value is left out rather than losing the checkpoint.
  const streamTimes = o['streamTimes'];
  const validTimes = typeof streamTimes === 'string' && isBase64(streamTimes);
  const rest = { ...(validTimes ? { streamTimes } : {}) };
  if (version === SHA256_CHECKPOINT_VERSION) {
    // Everything it holds is hashed the old way: the current records start empty.
    const legacy = { recentIds, ...(shippedCounts === undefined ? {} : { shippedCounts }) };
    return { kind: 'found', record: { resourceVersions, positionTimeMs: time, recentIds: '', ...(shippedCounts === undefined ? {} : { shippedCounts: '' }), ...rest, legacy } };
  }
  const legacyIds = o['sha256RecentIds'];
  const legacyCounts = o['sha256ShippedCounts'];
  if (legacyIds !== undefined && !isRecentIds(legacyIds)) return { kind: 'invalid', reason: 'bad sha256RecentIds' };
  if (legacyCounts !== undefined && (typeof legacyCounts !== 'string' || !isShippedCounts(legacyCounts))) return { kind: 'invalid', reason: 'bad sha256ShippedCounts' };
  const legacy = legacyIds === undefined && legacyCounts === undefined ? {} : { legacy: { recentIds: legacyIds ?? '', ...(legacyCounts === undefined ? {} : { shippedCounts: legacyCounts }) } };
  return {
    kind: 'found',
    record: { resourceVersions, positionTimeMs: time, recentIds, ...(shippedCounts === undefined ? {} : { shippedCounts }), ...rest, ...legacy },
  };
}

function isRecentIds(v: unknown): v is string {
  return typeof v === 'string' && isBase64(v);
}
