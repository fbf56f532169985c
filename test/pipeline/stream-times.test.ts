import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Entry } from '../../src/core/entry.js';
import { createMetrics } from '../../src/observe/metrics.js';
import { Retimer } from '../../src/pipeline/retimer.js';
import { StreamTimes, streamKeyOf } from '../../src/pipeline/stream-times.js';
import { createTransformer, resolveTransformOptions } from '../../src/transform/index.js';
import { coreEvent } from '../fakes/kube-events.js';
import { readMetrics } from '../support/metrics.js';

const HOUR_MS = 3_600_000;
const MS = 1_000_000n;
const HOUR = 3_600_000n * MS;
const MIN = 60_000n * MS;
/** A whole hour, so grid arithmetic is easy to read. */
const T = 1_790_000_000_000n * MS - ((1_790_000_000_000n * MS) % HOUR);

describe('the per-stream newest time and the out-of-order rule', () => {
  it('leaves an entry alone in a stream it knows nothing of', () => {
    const times = new StreamTimes(HOUR_MS);
    assert.equal(times.placeOf('s', T - 100n * HOUR), T - 100n * HOUR);
  });

  it('leaves an entry alone when it is at most the window older than the newest (Loki accepts it)', () => {
    const times = new StreamTimes(HOUR_MS);
    times.note('s', T);
    assert.equal(times.placeOf('s', T - HOUR), T - HOUR, 'exactly the window: Loki accepts (cutoff.After(ts) is false)');
    assert.equal(times.placeOf('s', T - 59n * MIN), T - 59n * MIN);
    assert.equal(times.placeOf('s', T + 5n * MIN), T + 5n * MIN);
  });

  it('moves an older entry to the edge rounded up to a sixth of the window, never past the newest', () => {
    const times = new StreamTimes(HOUR_MS);
    times.note('s', T + 7n * MIN); // edge: T - 53 min → rounded up to T - 50 min
    const placed = times.placeOf('s', T - 3n * HOUR);
    assert.equal(placed, T - 50n * MIN);
    assert.ok(placed >= T + 7n * MIN - HOUR && placed <= T + 7n * MIN);
  });

  it('places the same entry at the same time while the newest stays within one grid step (a re-send collapses)', () => {
    const times = new StreamTimes(HOUR_MS);
    times.note('s', T + 1n * MIN);
    const first = times.placeOf('s', T - 5n * HOUR);
    times.note('s', T + 9n * MIN);
    assert.equal(times.placeOf('s', T - 5n * HOUR), first);
    times.note('s', T + 11n * MIN);
    assert.notEqual(times.placeOf('s', T - 5n * HOUR), first, 'a later grid step moves the edge');
  });

  it('keeps streams apart and the newest time only grows', () => {
    const times = new StreamTimes(HOUR_MS);
    times.note('a', T);
    times.note('a', T - 2n * HOUR);
    assert.equal(times.newestOf('a'), T);
    assert.equal(times.placeOf('b', T - 5n * HOUR), T - 5n * HOUR);
  });

  it('forgets the least recently written streams beyond its capacity', () => {
    const times = new StreamTimes(HOUR_MS, 3);
    for (const k of ['a', 'b', 'c']) times.note(k, T);
    times.note('a', T + MIN); // a is now the most recent
    times.note('d', T);
    assert.equal(times.size, 3);
    assert.equal(times.newestOf('b'), undefined);
    assert.equal(times.newestOf('a'), T + MIN);
  });

  it('round-trips through its serialized form, and a full record stays small for a ConfigMap', () => {
    const times = new StreamTimes(HOUR_MS);
    for (let i = 0; i < times.capacity + 100; i++) times.note(streamKeyOf({ namespace: `ns-${i}`, job: 'x' }), T + BigInt(i));
    const text = times.serialize();
    assert.ok(text.length < 200_000, `${text.length} chars`);
    const back = new StreamTimes(HOUR_MS);
    assert.equal(back.load(text), true);
    assert.equal(back.size, times.capacity);
    const key = streamKeyOf({ job: 'x', namespace: `ns-${times.capacity + 99}` });
    assert.equal(back.newestOf(key), T + BigInt(times.capacity + 99));
    assert.equal(back.load('not base64!'), false);
    assert.equal(back.load('AAAA'), false, 'not a whole number of records');
  });

  it('names a stream by its label set, whatever the order of the names', () => {
    assert.equal(streamKeyOf({ a: '1', b: '2' }), streamKeyOf({ b: '2', a: '1' }));
    assert.notEqual(streamKeyOf({ a: '1', b: '2' }), streamKeyOf({ a: '1', b: '3' }));
    assert.notEqual(streamKeyOf({ a: '1,b=2' }), streamKeyOf({ a: '1', b: '2' }));
  });
});

describe('the retimer in front of the sink', () => {
  const transformer = createTransformer(resolveTransformOptions({}), { now: () => Date.now() });
  const entryAt = (name: string, time: string): Entry => {
    const n = transformer.normalize(coreEvent({ namespace: 'shop', name, time }));
    assert.ok(n.ok);
    return transformer.toEntry(n.event);
  };

  it('counts every entry written off its true time, by reason, and places a re-send of the same entry on the same time', async () => {
    const metrics = createMetrics({ version: 't' });
    const retimer = new Retimer(new StreamTimes(HOUR_MS), (e, ts) => transformer.retime(e, ts), metrics);
    const now = Date.now();
    const fresh = retimer.place(entryAt('fresh', new Date(now).toISOString()));
    assert.equal(fresh.retimed, undefined);
    const late = entryAt('late', new Date(now - 3 * HOUR_MS).toISOString());
    const placed = retimer.place(late);
    assert.equal(placed.retimed, 'out_of_order');
    assert.ok(placed.timestampNs >= fresh.timestampNs - BigInt(HOUR_MS) * MS && placed.timestampNs < fresh.timestampNs);
    assert.match(placed.line, /original_ts=\S+$/);
    assert.deepEqual(retimer.place(late), placed, 'deterministic');
    const ancient = retimer.place(entryAt('ancient', new Date(now - 8 * 24 * HOUR_MS).toISOString()));
    assert.equal(ancient.retimed, 'too_old');
    const samples = await readMetrics(metrics);
    assert.equal(samples.value('kube_event_shipper_entries_retimed_total', { reason: 'out_of_order' }), 2);
    assert.equal(samples.value('kube_event_shipper_entries_retimed_total', { reason: 'too_old' }), 1);
    assert.equal(samples.value('kube_event_shipper_entries_retimed_total', { reason: 'too_new' }), 0);
  });
});
