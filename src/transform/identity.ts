/**
 * The identity of one occurrence: (event uid, cumulative count, occurrence time). A metadata-only
 * update changes none of them, so it maps to an id already shipped; a count bump makes a new one.
 */
import type { NormalizedEvent } from './normalize.js';

export function occurrenceIdOf(event: Pick<NormalizedEvent, 'uid' | 'count' | 'occurredAtNs'>): string {
  return `${event.uid}:${event.count}:${event.occurredAtNs}`;
}
