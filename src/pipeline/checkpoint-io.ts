/** Why its own module: reading and writing the checkpoint is one job, apart from moving events. */
import { CheckpointConflictError } from '../checkpoint/errors.js';
import type { CheckpointRecord, CheckpointStore } from '../checkpoint/record.js';
import type { ShippedCounts } from '../checkpoint/shipped-counts.js';
import { Backoff, DEFAULT_BACKOFF } from '../core/backoff.js';
import type { StreamStart } from '../source/index.js';
import type { RecentIds } from './recent-ids.js';
import type { ShipperDeps } from './shipper.js';
import type { StreamTimes } from './stream-times.js';
import type { Watermark } from './watermark.js';

/** Reads the checkpoint (retrying while the store cannot be reached); undefined if stopped meanwhile. */
export async function loadCheckpoint(
  deps: ShipperDeps,
  streams: readonly string[],
  recent: RecentIds,
  counts: readonly ShippedCounts[],
  streamTimes: StreamTimes,
  signal: AbortSignal,
): Promise<Record<string, StreamStart> | undefined> {
  const store = deps.checkpoint;
  const log = deps.logger;
  if (!store) return {};
  const backoff = new Backoff(DEFAULT_BACKOFF, deps.clock, deps.random);
  while (!signal.aborted) {
    let result;
    try {
      result = await store.load();
    } catch (err) {
      const delay = backoff.next();
      log.warn({ err, store: store.description, retryInMs: delay }, 'cannot read the checkpoint; retrying');
      await deps.clock.sleep(delay, signal).catch(() => undefined);
      continue;
    }
    if (result.kind === 'missing') {
      log.info({ store: store.description }, 'no checkpoint yet; first start');
      return {};
    }
    if (result.kind === 'invalid') {
      log.warn({ store: store.description, reason: result.reason }, 'checkpoint ignored');
      return {};
    }
    const starts: Record<string, StreamStart> = {};
    for (const stream of streams) {
      const rv = result.record.resourceVersions[stream];
      if (rv !== undefined) starts[stream] = { resourceVersion: rv, sinceMs: result.record.positionTimeMs };
    }
    // Hashed with SHA-256 by a version before (older than the rest, so loaded first).
    const legacy = result.record.legacy;
    if (legacy !== undefined && !recent.load(legacy.recentIds, 'sha256')) log.warn({ store: store.description }, 'checkpoint recent ids (sha256) ignored');
    if (legacy?.shippedCounts !== undefined) for (const c of counts) c.load(legacy.shippedCounts, 'sha256');
    if (!recent.load(result.record.recentIds)) log.warn({ store: store.description }, 'checkpoint recent ids ignored');
    if (result.record.streamTimes !== undefined && !streamTimes.load(result.record.streamTimes)) log.warn({ store: store.description }, 'checkpoint stream times ignored');
    const shippedCounts = result.record.shippedCounts;
    // Written before the record existed: every event counts its whole count once more.
    if (shippedCounts === undefined) log.info({ store: store.description }, 'checkpoint has no shipped counts');
    else for (const c of counts) c.load(shippedCounts);
    log.info(
      { store: store.description, resourceVersions: result.record.resourceVersions, recentIds: recent.size, shippedCounts: counts[0]?.size ?? 0 },
      'resuming from checkpoint',
    );
    return starts;
  }
  return undefined;
}

/**
 * Floor under the checkpoint interval. The config refuses such values; this is the second line of
 * defence against a 0 ms timer loop.
 */
const MIN_CHECKPOINT_INTERVAL_MS = 100;

/** Writes the checkpoint every interval when it changed, and once more at the end. */
export class CheckpointWriter {
  private lastWritten: string | undefined;

  constructor(
    private readonly store: CheckpointStore,
    private readonly deps: ShipperDeps,
    private readonly watermarks: ReadonlyMap<string, Watermark>,
    private readonly recent: RecentIds,
    private readonly shipped: ShippedCounts,
    private readonly streamTimes: StreamTimes,
  ) {}

  async loop(intervalMs: number, signal: AbortSignal): Promise<void> {
    const every = Math.max(MIN_CHECKPOINT_INTERVAL_MS, intervalMs);
    while (!signal.aborted) {
      try {
        await this.deps.clock.sleep(every, signal);
      } catch {
        return;
      }
      await this.saveIfChanged();
    }
  }

  private record(): CheckpointRecord | undefined {
    const resourceVersions: Record<string, string> = {};
    let positionTimeMs = Number.POSITIVE_INFINITY;
    for (const [stream, wm] of this.watermarks) {
      const p = wm.position;
      if (!p) continue;
      resourceVersions[stream] = p.resourceVersion;
      positionTimeMs = Math.min(positionTimeMs, p.atMs);
    }
    if (Object.keys(resourceVersions).length === 0) return undefined;
    const legacyIds = this.recent.serialize('sha256');
    const legacyCounts = this.shipped.serialize('sha256');
    const legacy = legacyIds === '' && legacyCounts === '' ? {} : { legacy: { recentIds: legacyIds, shippedCounts: legacyCounts } };
    return { resourceVersions, positionTimeMs, recentIds: this.recent.serialize(), shippedCounts: this.shipped.serialize(), streamTimes: this.streamTimes.serialize(), ...legacy };
  }

  async saveIfChanged(): Promise<void> {
    const record = this.record();
    if (!record) return;
    const key = `${JSON.stringify(record.resourceVersions)} ${record.recentIds} ${record.shippedCounts ?? ''} ${record.streamTimes ?? ''} ${record.legacy?.recentIds ?? ''} ${record.legacy?.shippedCounts ?? ''}`;
    if (key === this.lastWritten) return;
    const { metrics, logger, clock } = this.deps;
    try {
      await this.store.save(record);
      this.lastWritten = key;
      metrics.checkpointWrites.inc({ result: 'success' });
      metrics.checkpointLastWrite.set(clock.now() / 1000);
    } catch (err) {
      if (err instanceof CheckpointConflictError) {
        // A new leader wrote since we read: its checkpoint stays. Tried again next interval, and
        // written then only while this term still holds the Lease.
        metrics.checkpointWrites.inc({ result: 'conflict' });
        logger.warn({ err, store: this.store.description }, 'checkpoint not written: another writer changed it since we read it');
        return;
      }
      metrics.checkpointWrites.inc({ result: 'error' });
      logger.warn({ err, store: this.store.description }, 'checkpoint write failed');
    }
  }
}
