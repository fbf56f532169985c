/**
 * How often Kubernetes writes updates of one persisting problem, and a minimal model of a Loki
 * ruler evaluating a presence rule (`count_over_time(...[W]) > 0`, `for: F`) on those updates.
 * Used to check that the alert rules keep holding at the reporters' real cadence.
 */
import { readFixtureJsonLines } from '../support/fixtures.js';

interface WatchLine {
  readonly type: string;
  readonly object: { readonly reason?: string; readonly involvedObject?: { readonly name?: string }; readonly lastTimestamp?: string | null };
}

/**
 * Minutes (from the first) at which the legacy core/v1 recorder wrote a persisting problem: the
 * FailedBinding event of claim-nodefault in the controllers fixture (a burst every 15 s, then,
 * once the spam filter's 25 tokens are gone, one update per 5 minutes: counts 26, 42, 62, 82),
 * continued at the fixture's last interval up to `minutes` (the recording stopped after 20).
 */
export function legacyRecorderCadence(minutes: number): number[] {
  const stamps = (readFixtureJsonLines('events/controllers/watch-core-v1.jsonl') as WatchLine[])
    .filter((w) => w.object.reason === 'FailedBinding' && w.object.involvedObject?.name === 'claim-nodefault')
    .map((w) => Date.parse(w.object.lastTimestamp ?? ''));
  const first = stamps[0] ?? NaN;
  const times = stamps.map((t) => (t - first) / 60_000);
  const last = times[times.length - 1] ?? NaN;
  const steadyInterval = last - (times[times.length - 2] ?? NaN);
  if (!(times.length > 26 && Math.abs(steadyInterval - 5) < 0.1)) throw new Error('the fixture no longer shows the 5-minute steady state');
  for (let t = last + steadyInterval; t <= minutes; t += steadyInterval) times.push(t);
  return times;
}

/**
 * The events.k8s.io recorder (client-go tools/events, used by the scheduler): the first
 * occurrence, the second turning it into a series, then one series refresh every 30 minutes.
 */
export function seriesRecorderCadence(minutes: number): number[] {
  const times = [0, 0.25];
  for (let t = 30; t <= minutes; t += 30) times.push(t);
  return times;
}

export interface PresenceRule {
  /** Range of `count_over_time`, minutes. */
  readonly windowMinutes: number;
  /** The rule's `for:`, minutes (0 without one). */
  readonly forMinutes: number;
}

/** Minutes, evaluated once a minute from 0 to `until`, at which the alert is firing. */
export function firingMinutes(rule: PresenceRule, updates: readonly number[], until: number): number[] {
  const firing: number[] = [];
  let pendingSince: number | undefined;
  for (let t = 0; t <= until; t += 1) {
    const present = updates.some((u) => u <= t && u > t - rule.windowMinutes);
    if (!present) {
      pendingSince = undefined;
      continue;
    }
    pendingSince ??= t;
    if (t - pendingSince >= rule.forMinutes) firing.push(t);
  }
  return firing;
}

/** `15m`, `1h`, `30s` as minutes. */
export function durationMinutes(text: string): number {
  const match = /^(\d+)([smh])$/.exec(text);
  if (!match) throw new Error(`not a duration: ${text}`);
  const value = Number(match[1]);
  return match[2] === 's' ? value / 60 : match[2] === 'h' ? value * 60 : value;
}
