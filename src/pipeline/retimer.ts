/**
 * The last step before the sink: moves an entry that its Loki stream would refuse as too far behind
 * (see stream-times.ts) to the nearest accepted time, keeping its true time in the line, and counts
 * every entry written off its true time (also those the transform clamped) by reason.
 */
import type { Entry } from '../core/entry.js';
import type { Metrics } from '../observe/metrics.js';
import { streamKeyOf, type StreamTimes } from './stream-times.js';

export type RetimeEntry = (entry: Entry, timestampNs: bigint) => Entry;

export class Retimer {
  constructor(
    readonly times: StreamTimes,
    private readonly retime: RetimeEntry,
    private readonly metrics: Pick<Metrics, 'entriesRetimed'>,
  ) {}

  /** The entry as it is to be written now; records it as the newest of its stream when it is. */
  place(entry: Entry): Entry {
    const key = streamKeyOf(entry.labels);
    const at = this.times.placeOf(key, entry.timestampNs);
    const placed = at === entry.timestampNs ? entry : this.retime(entry, at);
    if (placed.retimed !== undefined) this.metrics.entriesRetimed.inc({ reason: placed.retimed });
    this.times.note(key, placed.timestampNs);
    return placed;
  }
}
