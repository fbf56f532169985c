/**
 * `replay <file|->`: ships events from a file or stdin through the same transform and sink as
 * `run`. Each occurrence is shipped once per replay (the same occurrence seen twice in a watch dump
 * — e.g. a metadata-only update — is counted as a duplicate). `occurrences` is computed against
 * what this replay shipped before (no checkpoint is read): an event's first state in the input
 * counts its whole count, each later one its rise. The exit code is 0 only when every
 * event read was delivered: a malformed item or a dropped entry gives 1, with a summary on stderr.
 */
import type { Readable, Writable } from 'node:stream';
import type { Logger } from 'pino';
import { ShippedCounts } from '../../checkpoint/shipped-counts.js';
import type { Clock } from '../../core/clock.js';
import type { EntrySink } from '../../core/entry.js';
import type { Metrics } from '../../observe/metrics.js';
import type { Transformer } from '../../transform/index.js';
import { readReplayBatches } from '../replay-input.js';

/**
 * Events whose last count a replay remembers. A replay input holds each event once (a list) or a
 * few times close together (a watch dump), so this bounds memory without forgetting an event
 * between two of its states in practice.
 */
export const REPLAY_SHIPPED_COUNTS_CAPACITY = 200_000;

export interface ReplaySummary {
  /** Event objects read (skipped watch events and malformed items not included). */
  readonly events: number;
  readonly delivered: number;
  readonly dropped: number;
  readonly malformed: number;
  readonly duplicates: number;
  /** DELETED, BOOKMARK and ERROR watch events, which carry no new occurrence. */
  readonly skipped: number;
  readonly interrupted: boolean;
}

export interface ReplayDeps {
  readonly transformer: Transformer;
  readonly sink: EntrySink;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly clock: Clock;
  /** Progress lines go here (stderr). */
  readonly progressOut: Writable;
  readonly progressEveryMs: number;
  /** Time the sink may take to deliver what it holds once input ends or a signal arrives. */
  readonly drainTimeoutMs: number;
}

export async function replay(input: Readable, deps: ReplayDeps, signal: AbortSignal): Promise<ReplaySummary> {
  const { transformer, sink, logger, metrics, clock } = deps;
  const seen = new Set<string>();
  const lastCounts = new ShippedCounts(REPLAY_SHIPPED_COUNTS_CAPACITY);
  const counts = { events: 0, delivered: 0, dropped: 0, malformed: 0, duplicates: 0, skipped: 0 };
  let lastProgress = clock.now();
  const progress = (final: boolean): void => {
    const line = `replay: ${counts.events} events read, ${counts.delivered} delivered, ${counts.dropped} dropped, ${counts.malformed} malformed, ${counts.duplicates} duplicates, ${counts.skipped} skipped`;
    deps.progressOut.write((final ? line.replace(/^replay:/, 'replay done:') : line) + '\n');
  };
  try {
    reading: for await (const batch of readReplayBatches(input, signal)) {
      for (const item of batch) {
        if (signal.aborted) break reading;
        if (item.kind === 'skipped') {
          counts.skipped += item.count;
          continue;
        }
        if (item.kind === 'malformed') {
          counts.malformed += 1;
          metrics.eventsDropped.inc({ reason: 'malformed' });
          logger.warn({ line: item.line, reason: item.reason }, 'malformed replay input');
          continue;
        }
        counts.events += 1;
        metrics.eventsReceived.inc({ type: 'LISTED' });
        const normalized = transformer.normalize(item.event);
        if (!normalized.ok) {
          counts.malformed += 1;
          metrics.eventsDropped.inc({ reason: 'malformed' });
          logger.warn({ line: item.line, reason: normalized.reason, detail: normalized.detail }, 'malformed event');
          continue;
        }
        const { uid, count } = normalized.event;
        const entry = transformer.toEntry(normalized.event, lastCounts.occurrencesOf(uid, count));
        if (seen.has(entry.occurrenceId)) {
          counts.duplicates += 1;
          metrics.eventsDuplicate.inc();
          continue;
        }
        seen.add(entry.occurrenceId);
        lastCounts.raise(uid, count);
        // The sink counts shipped and dropped in the metrics; here only the summary.
        await sink.write(entry, (outcome) => {
          if (outcome.kind === 'delivered') {
            counts.delivered += 1;
          } else {
            counts.dropped += 1;
            // The sink already logs each dropped batch once; per entry only at debug level.
            logger.debug({ reason: outcome.reason, detail: outcome.detail, occurrenceId: entry.occurrenceId }, 'entry dropped');
          }
        });
        if (clock.now() - lastProgress >= deps.progressEveryMs) {
          lastProgress = clock.now();
          progress(false);
        }
      }
    }
  } catch (err) {
    // The input fails with an AbortError when the signal destroys it; anything else is a read failure.
    if (!signal.aborted) throw err;
  } finally {
    input.destroy();
  }
  if (!signal.aborted) {
    // Wait for every outcome, unless a signal asks to wrap up within the grace period instead.
    const aborted = new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    await Promise.race([sink.flush(), aborted]);
  }
  await sink.close(deps.drainTimeoutMs);
  progress(true);
  return { ...counts, interrupted: signal.aborted };
}
