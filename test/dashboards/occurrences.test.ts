import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readFixtureJsonLines } from '../support/fixtures.js';
import { EVENT_TTL_LOOKBACK, occurrences } from '../../dashboards/src/definitions.js';

// The occurrence panels compute, per event_uid and window, the highest count in the window minus the
// highest count in the hour before it, or max − min + 1 for an event first seen in the window. These
// tests check that arithmetic on the real update sequences of the controllers fixture, whose counts
// jump by up to 20 in one update, and that the generated query has exactly those three parts.

interface WatchLine {
  readonly type: string;
  readonly object: {
    readonly reason?: string;
    readonly metadata: { readonly uid: string };
    readonly count?: number;
    readonly lastTimestamp?: string | null;
    readonly eventTime?: string | null;
  };
}
interface Update {
  readonly minute: number;
  readonly count: number;
}

const MINUTE = 60_000;
const LOOKBACK_MINUTES = 60;

/** Every event's shipped lines (time of the occurrence, cumulative count), by uid. */
function updatesByUid(): Map<string, { reason: string; updates: Update[] }> {
  const lines = readFixtureJsonLines('events/controllers/watch-core-v1.jsonl') as WatchLine[];
  const times = lines.map((w) => Date.parse(w.object.lastTimestamp ?? w.object.eventTime ?? ''));
  const origin = Math.min(...times);
  const byUid = new Map<string, { reason: string; updates: Update[] }>();
  lines.forEach((w, i) => {
    const uid = w.object.metadata.uid;
    const entry = byUid.get(uid) ?? { reason: w.object.reason ?? '', updates: [] };
    entry.updates.push({ minute: ((times[i] ?? NaN) - origin) / MINUTE, count: w.object.count ?? 1 });
    byUid.set(uid, entry);
  });
  return byUid;
}

/** What the query yields for one event over the window (start, end], or undefined for no series. */
function occurrencesInWindow(updates: readonly Update[], start: number, end: number): number | undefined {
  const inWindow = updates.filter((u) => u.minute > start && u.minute <= end).map((u) => u.count);
  if (inWindow.length === 0) return undefined;
  const before = updates.filter((u) => u.minute > start - LOOKBACK_MINUTES && u.minute <= start).map((u) => u.count);
  const highest = Math.max(...inWindow);
  return before.length > 0 ? highest - Math.max(...before) : highest - Math.min(...inWindow) + 1;
}

/** The query's value per step of a time series with step = range = `stepMinutes`. */
function perStep(updates: readonly Update[], stepMinutes: number): number[] {
  const last = Math.max(...updates.map((u) => u.minute));
  const values: number[] = [];
  for (let end = 0; end < last + stepMinutes; end += stepMinutes) values.push(occurrencesInWindow(updates, end - stepMinutes, end) ?? 0);
  return values;
}

describe('occurrence panels', () => {
  const events = updatesByUid();

  it('count the whole jump when one update folds many occurrences: FailedGetResourceMetric 19 → 39 → 59 → 79 is 60, not 3', () => {
    const hpa = [...events.values()].find((e) => e.reason === 'FailedGetResourceMetric');
    assert.ok(hpa);
    const at19 = hpa.updates.findIndex((u) => u.count === 19);
    assert.deepEqual(hpa.updates.slice(at19).map((u) => u.count), [19, 39, 59, 79]);
    const steps = perStep(hpa.updates, 1);
    const after19 = hpa.updates[at19]?.minute ?? NaN;
    const laterSteps = steps.filter((_, i) => i > Math.ceil(after19));
    assert.equal(laterSteps.reduce((a, b) => a + b, 0), 60);
    assert.deepEqual(laterSteps.filter((v) => v > 0), [20, 20, 20]);
  });

  for (const step of [1, 5, 15]) {
    it(`add up, over ${String(step)}-minute steps, to every event's occurrences in the fixture`, () => {
      assert.ok(events.size > 250);
      for (const [uid, { reason, updates }] of events) {
        const first = updates[0]?.count ?? NaN;
        const final = updates[updates.length - 1]?.count ?? NaN;
        const sum = perStep(updates, step).reduce((a, b) => a + b, 0);
        assert.equal(sum, final - first + 1, `${reason} ${uid}`);
      }
    });
  }

  it('are queried as the window maximum minus the previous hour\'s maximum, or max − min + 1', () => {
    assert.equal(EVENT_TTL_LOOKBACK, `${String(LOOKBACK_MINUTES / 60)}h`);
    const counted = (range: string): string => `{a="b"} ${range} |= "x" | $line_format count="count", event_uid="event_uid" | unwrap count | __error__=""`;
    const by = 'by (event_uid, reason)';
    assert.equal(
      occurrences('{a="b"} |= "x"', ['reason'], '$__interval'),
      `sum by (reason) ((max_over_time(${counted('[$__interval]')}) ${by} - max_over_time(${counted('[1h] offset $__interval')}) ${by}) or ` +
        `(max_over_time(${counted('[$__interval]')}) ${by} - min_over_time(${counted('[$__interval]')}) ${by} + 1))`,
    );
  });
});
