import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { createConfigMapCheckpointStore, createFileCheckpointStore } from '../../src/checkpoint/index.js';
import { createTransformer, DEFAULT_TRANSFORM_OPTIONS } from '../../src/transform/index.js';
import { FakeKubeApiServer } from '../fakes/kube-api-server.js';
import type { KubeObject } from '../fakes/kube-api-server.js';
import { coreEvent, newEvent } from '../fakes/kube-events.js';
import { startFakeLoki } from '../fakes/loki-receiver.js';
import type { FakeLoki } from '../fakes/loki-receiver.js';
import { readFixtureJsonLines } from '../support/fixtures.js';
import { ManualClock } from '../support/manual-clock.js';
import { duplicates, entriesPerEvent, startShipper } from './harness.js';
import { metricValue } from '../support/metrics.js';
import { until } from '../support/wait.js';

const now = (offsetMs = 0): string => new Date(Date.now() + offsetMs).toISOString();

describe('the shipper, end to end', () => {
  let fake: FakeKubeApiServer;
  let loki: FakeLoki;
  let dir: string;
  beforeEach(async () => {
    fake = await FakeKubeApiServer.start();
    loki = await startFakeLoki();
    dir = await mkdtemp(join(tmpdir(), 'kes-pipeline-'));
  });
  afterEach(async () => {
    await fake.close();
    await loki.close();
    await rm(dir, { recursive: true, force: true });
  });

  for (const [api, file] of [
    ['core/v1', 'events/watch-core-v1.jsonl'],
    ['events.k8s.io/v1', 'events/watch-events.k8s.io-v1.jsonl'],
    ['core/v1', 'events/controllers/watch-core-v1.jsonl'],
    ['events.k8s.io/v1', 'events/controllers/watch-events.k8s.io-v1.jsonl'],
  ] as const) {
    it(`replays ${file} through the fake server and ships exactly the expected occurrences`, async () => {
      const lines = readFixtureJsonLines(file) as { type: string; object: KubeObject }[];
      // What should arrive: one entry per distinct occurrence, as the real transform makes it.
      const transformer = createTransformer(DEFAULT_TRANSFORM_OPTIONS, { now: () => Date.now() });
      const expected = new Map<string, string>();
      let malformed = 0;
      for (const { type, object } of lines) {
        if (type !== 'ADDED' && type !== 'MODIFIED') continue;
        const n = transformer.normalize(object);
        if (!n.ok) {
          malformed += 1;
          continue;
        }
        const entry = transformer.toEntry(n.event);
        if (!expected.has(entry.occurrenceId)) expected.set(entry.occurrenceId, entry.line);
      }
      assert.ok(expected.size > 50, 'the fixture has occurrences');

      const shipper = startShipper({ fake, loki, checkpoint: undefined, source: { api } });
      try {
        await until(() => fake.openWatches === 1, 'watch open');
        for (const { type, object } of lines) {
          const key = FakeKubeApiServer.keyOf(object);
          if (type === 'ADDED') fake.createEvent(object);
          else if (type === 'MODIFIED')
            fake.updateEvent(key, (o) => {
              for (const k of Object.keys(o)) delete o[k];
              Object.assign(o, structuredClone(object));
            });
          else if (type === 'DELETED') fake.deleteEvent(key);
        }
        await loki.waitForEntries(expected.size, 10_000);
      } finally {
        await shipper.stop();
      }
      const got = loki.entries().map((e) => e.line).sort();
      assert.deepEqual(got, [...expected.values()].sort());
      assert.equal(await metricValue(shipper.metrics, 'kube_event_shipper_events_dropped_total{reason="malformed"}'), malformed);
      const modifiedWithoutOccurrence = lines.filter((l) => l.type === 'MODIFIED').length + lines.filter((l) => l.type === 'ADDED').length - malformed - expected.size;
      assert.equal(await metricValue(shipper.metrics, 'kube_event_shipper_events_duplicate_total'), modifiedWithoutOccurrence);
    });
  }

  it('ships no duplicate and loses nothing across a restart from the checkpoint (ConfigMap)', async () => {
    const checkpoint = createConfigMapCheckpointStore({ namespace: 'kes', name: 'kes-checkpoint' }, { kubeConfig: fake.kubeConfig() });
    const first = startShipper({ fake, loki, checkpoint });
    await until(() => fake.openWatches === 1, 'watch open');
    for (let i = 0; i < 50; i++) fake.createEvent(coreEvent({ name: `before-${i}`, time: now() }));
    await loki.waitForEntries(50);
    await first.stop();
    assert.ok(fake.getObject('configmaps', 'kes', 'kes-checkpoint'), 'the checkpoint is in the ConfigMap');

    for (let i = 0; i < 20; i++) fake.createEvent(coreEvent({ name: `while-down-${i}`, time: now() }));
    fake.touchMetadata('default/before-3'); // not an occurrence
    const second = startShipper({ fake, loki, checkpoint });
    try {
      await loki.waitForEntries(70);
      fake.createEvent(coreEvent({ name: 'after', time: now() }));
      await loki.waitForEntries(71);
    } finally {
      await second.stop();
    }
    assert.equal(fake.count('list'), 1, 'the second run resumed by watching, not listing');
    assert.deepEqual(duplicates(loki.entries()), []);
    assert.equal(loki.entries().length, 71);
    assert.equal(entriesPerEvent(loki.entries()).size, 71);
  });

  it('after compaction, relists and ships what was missed, re-ships nothing, and draws the line at superseded states', async () => {
    const checkpoint = createFileCheckpointStore(join(dir, 'checkpoint.json'));
    const first = startShipper({ fake, loki, checkpoint });
    await until(() => fake.openWatches === 1, 'watch open');
    fake.createEvent(coreEvent({ name: 'flapping', reason: 'BackOff', time: now() }));
    fake.createEvent(coreEvent({ name: 'steady', reason: 'Pulled', time: now() }));
    await loki.waitForEntries(2);
    await first.stop();

    // While the shipper is down: two more occurrences of one event (the middle one is superseded),
    // a new event, a short-lived event deleted again, then etcd compacts the history away.
    fake.bumpCount('default/flapping', now(1_000));
    fake.bumpCount('default/flapping', now(2_000));
    fake.createEvent(coreEvent({ name: 'new-while-down', time: now() }));
    fake.createEvent(coreEvent({ name: 'short-lived', time: now() }));
    fake.deleteEvent('default/short-lived');
    fake.touchMetadata('default/steady');
    fake.compact();

    const second = startShipper({ fake, loki, checkpoint });
    try {
      await loki.waitForEntries(4);
      await until(() => fake.openWatches === 1, 'watching again');
    } finally {
      await second.stop();
    }
    assert.equal(await metricValue(second.metrics, 'kube_event_shipper_relists_total{reason="gone"}'), 1);
    const lines = loki.entries().map((e) => e.line);
    assert.equal(lines.length, 4, lines.join('\n'));
    assert.equal(lines.filter((l) => l.includes('event=flapping') && l.includes('count=3')).length, 1, 'the newest state of the flapping event');
    assert.equal(lines.filter((l) => l.includes('count=2')).length, 0, 'the superseded state is not recoverable');
    assert.equal(lines.filter((l) => l.includes('event=new-while-down')).length, 1);
    assert.equal(lines.filter((l) => l.includes('event=steady')).length, 1, 'not shipped again');
    assert.equal(lines.filter((l) => l.includes('short-lived')).length, 0, 'gone from the server before the relist');
  });

  it('after compaction, ships every event bumped while down even when its new time is older than the last position (late series writers, skewed clocks), and counts what it leaves out', async () => {
    const checkpoint = createFileCheckpointStore(join(dir, 'checkpoint.json'));
    const first = startShipper({ fake, loki, checkpoint });
    await until(() => fake.openWatches === 1, 'watch open');
    for (let i = 0; i < 4; i++) fake.createEvent(coreEvent({ name: `core-${i}`, time: now(-20 * 60_000) }));
    for (let i = 0; i < 4; i++) fake.createEvent(newEvent({ name: `series-${i}`, time: now(-20 * 60_000) }));
    fake.createEvent(coreEvent({ name: 'untouched', time: now(-20 * 60_000) }));
    fake.createEvent(coreEvent({ name: 'relabelled', time: now(-20 * 60_000) }));
    await loki.waitForEntries(10);
    await first.stop();

    // While down: each event gets one more occurrence dated 10 min before the checkpoint's position
    // (twice the default 5 min look-back), one gets a metadata-only change; then etcd compacts.
    for (let i = 0; i < 4; i++) fake.bumpCount(`default/core-${i}`, now(-10 * 60_000));
    for (let i = 0; i < 4; i++) fake.bumpSeries(`default/series-${i}`, now(-10 * 60_000).replace('Z', '123Z'));
    fake.touchMetadata('default/relabelled');
    fake.compact();

    const second = startShipper({ fake, loki, checkpoint });
    try {
      await until(() => fake.count('list') === 2 && fake.openWatches === 1, 'relisted and watching');
      await loki.waitForEntries(18);
    } finally {
      await second.stop();
    }
    const lines = loki.entries().map((e) => e.line);
    assert.equal(lines.length, 18, lines.join('\n'));
    for (let i = 0; i < 4; i++) {
      assert.equal(lines.filter((l) => l.includes(`event=core-${i} `) && / count=2 /.test(l)).length, 1, `core-${i}'s new occurrence`);
      assert.equal(lines.filter((l) => l.includes(`event=series-${i} `)).length, 2, `series-${i}'s new occurrence`);
    }
    assert.deepEqual(duplicates(loki.entries()), []);
    assert.equal(await metricValue(second.metrics, 'kube_event_shipper_events_skipped_total{reason="unchanged"}'), 1, 'untouched: not newer than the position');
    assert.equal(await metricValue(second.metrics, 'kube_event_shipper_events_duplicate_total'), 1, 'relabelled: newer, but its occurrence was shipped');
    assert.equal(await metricValue(second.metrics, 'kube_event_shipper_events_skipped_total{reason="before_lookback"}'), 0);
  });

  for (const [policy, initial] of [
    ['--initial none', { kind: 'none' }],
    ['--initial 1h', { kind: 'maxAge', maxAgeMs: 3_600_000 }],
  ] as const) {
    it(`never ships an old occurrence left out by ${policy}, not even after a metadata-only update or a restart; a real new one ships once`, async () => {
      fake.createEvent(coreEvent({ name: 'existing', reason: 'BackOff', time: now(-2 * 3_600_000) }));
      fake.createEvent(coreEvent({ name: 'other', reason: 'Pulled', time: now(-2 * 3_600_000) }));
      const checkpoint = createFileCheckpointStore(join(dir, 'checkpoint.json'));
      const first = startShipper({ fake, loki, checkpoint, source: { initial } });
      try {
        await until(() => fake.openWatches === 1, 'watch open');
        fake.touchMetadata('default/existing'); // MODIFIED, same occurrence
        fake.createEvent(coreEvent({ name: 'marker-1', time: now() })); // handled after the touch
        await loki.waitForEntries(1);
        fake.bumpCount('default/existing', now());
        await loki.waitForEntries(2);
      } finally {
        await first.stop();
      }
      assert.equal(await metricValue(first.metrics, 'kube_event_shipper_events_duplicate_total'), 1, 'the metadata-only update was recognised');

      // While down, the other listed event gets a metadata-only update; the next run watches from
      // the checkpoint and must still know that occurrence as seen.
      fake.touchMetadata('default/other');
      const second = startShipper({ fake, loki, checkpoint, source: { initial } });
      try {
        await until(() => fake.openWatches === 1, 'watching again');
        fake.createEvent(coreEvent({ name: 'marker-2', time: now() }));
        await loki.waitForEntries(3);
      } finally {
        await second.stop();
      }
      assert.equal(fake.count('list'), 1, 'the second run resumed by watching');
      assert.equal(await metricValue(second.metrics, 'kube_event_shipper_events_duplicate_total'), 1);
      const lines = loki.entries().map((e) => e.line);
      assert.deepEqual(
        lines.map((l) => / event=(\S+)/.exec(l)?.[1]),
        ['marker-1', 'existing', 'marker-2'],
      );
      assert.match(lines[1]!, / count=2 /, 'the new occurrence carries the new count');
    });
  }

  it('checkpoints a slow list with the time it began, so a restart that must relist still ships what happened while paging', async () => {
    for (let i = 0; i < 20; i++) fake.createEvent(coreEvent({ name: `p${String(i).padStart(2, '0')}`, time: now() }));
    const checkpoint = createFileCheckpointStore(join(dir, 'checkpoint.json'));
    // A slow Loki and a small queue hold each listed item back ~30 ms: the list takes ~600 ms.
    loki.setDefaultReply({ delayMs: 30 });
    fake.injectFault('watch', { kind: 'hang' }); // the first run never sees the watch's events
    const source = { initial: { kind: 'all' }, relistMarginMs: 100 } as const;
    const first = startShipper({ fake, loki, checkpoint, source, sink: { queueMaxBytes: 4_000, batchMaxEntries: 1 } });
    try {
      await loki.waitForEntries(1);
      fake.createEvent(coreEvent({ name: 'during-list', time: now() }));
      await until(() => fake.count('watch') === 1, 'list done, watch asked for');
      await loki.waitForEntries(20);
    } finally {
      await first.stop();
    }
    loki.setDefaultReply({ status: 204 });
    fake.compact(); // the checkpointed resourceVersion is gone: the next run relists
    const second = startShipper({ fake, loki, checkpoint, source });
    try {
      await until(() => fake.count('list') === 2 && fake.openWatches === 1, 'relisted and watching');
      await loki.waitForEntries(21);
    } finally {
      await second.stop();
    }
    const names = loki.entries().map((e) => / event=(\S+)/.exec(e.line)?.[1]);
    assert.equal(names.length, 21);
    assert.equal(names[20], 'during-list');
  });

  it('re-ships on the next run what Loki had not acknowledged at shutdown', async () => {
    const checkpoint = createFileCheckpointStore(join(dir, 'checkpoint.json'));
    const first = startShipper({ fake, loki, checkpoint, drainTimeoutMs: 100, sink: { timeoutMs: 5_000 } });
    await until(() => fake.openWatches === 1, 'watch open');
    fake.createEvent(coreEvent({ name: 'acked', time: now() }));
    await loki.waitForEntries(1);
    loki.setDefaultReply({ hang: true });
    fake.createEvent(coreEvent({ name: 'unacked', time: now() }));
    await loki.waitForRequests(2);
    await first.stop();
    assert.equal(await metricValue(first.metrics, 'kube_event_shipper_events_dropped_total{reason="shutdown"}'), 1);
    loki.setDefaultReply({ status: 204 });

    const second = startShipper({ fake, loki, checkpoint });
    try {
      await loki.waitForEntries(2);
    } finally {
      await second.stop();
    }
    assert.deepEqual(loki.entries().map((e) => / event=(\S+)/.exec(e.line)?.[1]), ['acked', 'unacked']);
  });

  it('re-ships on the next run a batch the sink gave up on (retries_exhausted), and nothing twice', async () => {
    const checkpoint = createFileCheckpointStore(join(dir, 'checkpoint.json'));
    const first = startShipper({ fake, loki, checkpoint, sink: { maxRetries: 1 } });
    await until(() => fake.openWatches === 1, 'watch open');
    fake.createEvent(coreEvent({ name: 'acked', time: now() }));
    await loki.waitForEntries(1);
    loki.setDefaultReply({ status: 503 });
    fake.createEvent(coreEvent({ name: 'exhausted', time: now() }));
    await until(() => loki.requests.length >= 3, 'the push and its one retry');
    loki.setDefaultReply({ status: 204 });
    fake.createEvent(coreEvent({ name: 'later', time: now() }));
    await loki.waitForEntries(2);
    await first.stop();
    assert.equal(await metricValue(first.metrics, 'kube_event_shipper_events_dropped_total{reason="retries_exhausted"}'), 1);

    const second = startShipper({ fake, loki, checkpoint });
    try {
      await loki.waitForEntries(3);
      await until(() => fake.openWatches === 1, 'watching again');
    } finally {
      await second.stop();
    }
    assert.deepEqual(loki.entries().map((e) => / event=(\S+)/.exec(e.line)?.[1]), ['acked', 'later', 'exhausted']);
    assert.equal(await metricValue(second.metrics, 'kube_event_shipper_events_duplicate_total'), 1, 'later was skipped as already shipped');
  });

  // The test's timeout is the liveness bound: run must resolve after the stop signal.
  it('stops while Loki hangs and the full sink queue holds the source back', { timeout: 10_000 }, async () => {
    const checkpoint = createFileCheckpointStore(join(dir, 'checkpoint.json'));
    loki.setDefaultReply({ hang: true });
    const shipper = startShipper({ fake, loki, checkpoint, drainTimeoutMs: 100, sink: { queueMaxBytes: 2_000, timeoutMs: 10_000 } });
    await until(() => fake.openWatches === 1, 'watch open');
    for (let i = 0; i < 50; i++) fake.createEvent(coreEvent({ name: `held-${i}`, time: now() }));
    await loki.waitForRequests(1);
    await shipper.stop();
    assert.ok((await metricValue(shipper.metrics, 'kube_event_shipper_events_dropped_total{reason="shutdown"}')) > 0);
    assert.equal(loki.entries().length, 0);
    loki.setDefaultReply({ status: 204 });
    const again = startShipper({ fake, loki, checkpoint });
    try {
      await loki.waitForEntries(50);
    } finally {
      await again.stop();
    }
    assert.equal(loki.entries().length, 50, 'the next run ships all of them, once');
  });

  it('makes a listed occurrence byte-identical to the same occurrence watched (so Loki keeps one copy)', async () => {
    const first = startShipper({ fake, loki, checkpoint: undefined });
    await until(() => fake.openWatches === 1, 'watch open');
    // A recent time (inside the accept window, so not clamped) with microseconds.
    const micro = `${now(-60_000).slice(0, 19)}.123456Z`;
    fake.createEvent(newEvent({ name: 'micro', time: micro }));
    await loki.waitForEntries(1);
    await first.stop();
    const second = startShipper({ fake, loki, checkpoint: undefined, source: { initial: { kind: 'all' } } });
    try {
      await loki.waitForReceived(2);
    } finally {
      await second.stop();
    }
    const [watched, listed] = loki.received();
    assert.deepEqual(listed, watched);
    assert.match(watched!.ts, /123456000$/, 'microseconds kept');
    assert.equal(loki.entries().length, 1, 'Loki stored one copy');
  });

  it('never runs the checkpoint timer below 100 ms, so an interval of 0 cannot make a timer loop', async () => {
    const clock = new ManualClock({ startMs: 'wall', realSleeps: true });
    const { sleeps } = clock;
    const checkpoint = createFileCheckpointStore(join(dir, 'checkpoint.json'));
    const shipper = startShipper({ fake, loki, checkpoint, checkpointIntervalMs: 0, clock });
    try {
      await until(() => fake.openWatches === 1, 'watch open');
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      await shipper.stop();
    }
    // A quiet run sleeps only in the checkpoint writer: about three times in 300 ms at the floor,
    // hundreds of times at 0. A slow machine only lowers the count.
    assert.ok(sleeps.length <= 20, `${sleeps.length} sleeps`);
    assert.ok(sleeps.every((ms) => ms >= 100), `sleeps of ${sleeps.filter((ms) => ms < 100).join(', ')} ms`);
  });

  it('keeps shipping when the checkpoint cannot be written, and counts the failures', async () => {
    fake.putObject('configmaps', { metadata: { namespace: 'kes', name: 'taken' }, data: { 'other.conf': 'x' } });
    const checkpoint = createConfigMapCheckpointStore({ namespace: 'kes', name: 'taken' }, { kubeConfig: fake.kubeConfig() });
    const shipper = startShipper({ fake, loki, checkpoint });
    try {
      await until(() => fake.openWatches === 1, 'watch open');
      fake.createEvent(coreEvent({ name: 'still-shipped', time: now() }));
      await loki.waitForEntries(1);
      await until(() => fake.count('configmaps') >= 3, 'write attempts');
    } finally {
      await shipper.stop();
    }
    assert.ok((await metricValue(shipper.metrics, 'kube_event_shipper_checkpoint_writes_total{result="error"}')) >= 1);
    assert.equal(await metricValue(shipper.metrics, 'kube_event_shipper_checkpoint_writes_total{result="success"}'), 0);
    assert.deepEqual(fake.getObject('configmaps', 'kes', 'taken')?.['data'], { 'other.conf': 'x' });
  });

  it('counts and skips malformed, filtered and deleted events without stopping', async () => {
    const shipper = startShipper({ fake, loki, checkpoint: undefined, filters: { types: ['Warning'], reasons: [/^Failed/, 'BackOff'] } });
    try {
      await until(() => fake.openWatches === 1, 'watch open');
      const broken = coreEvent({ name: 'broken', type: 'Warning', reason: 'BackOff', time: now() });
      delete (broken['metadata'] as Record<string, unknown>)['uid'];
      broken['involvedObject'] = 'not an object';
      fake.createEvent(broken);
      fake.createEvent(coreEvent({ name: 'normal', type: 'Normal', reason: 'BackOff', time: now() }));
      fake.createEvent(coreEvent({ name: 'pulled', type: 'Warning', reason: 'Pulled', time: now() }));
      fake.createEvent(newEvent({ name: 'failed', type: 'Warning', reason: 'FailedScheduling', time: now() }));
      fake.createEvent(coreEvent({ name: 'backoff', type: 'Warning', reason: 'BackOff', time: now() }));
      fake.deleteEvent('default/backoff');
      await loki.waitForEntries(2);
      await until(() => fake.openWatches === 1, 'still watching');
    } finally {
      await shipper.stop();
    }
    assert.deepEqual(loki.entries().map((e) => / event=(\S+)/.exec(e.line)?.[1]).sort(), ['backoff', 'failed']);
    assert.equal(await metricValue(shipper.metrics, 'kube_event_shipper_events_dropped_total{reason="malformed"}'), 1);
    assert.equal(await metricValue(shipper.metrics, 'kube_event_shipper_events_filtered_total{filter="type"}'), 1);
    assert.equal(await metricValue(shipper.metrics, 'kube_event_shipper_events_filtered_total{filter="reason"}'), 1);
  });

  it('does not overwrite a checkpoint another writer stored since this run read it (409): the final save is counted as a conflict', async () => {
    const checkpoint = createConfigMapCheckpointStore({ namespace: 'kes', name: 'contested' }, { kubeConfig: fake.kubeConfig() });
    const shipper = startShipper({ fake, loki, checkpoint, checkpointIntervalMs: 3_600_000 });
    let theirs: KubeObject | undefined;
    try {
      await until(() => fake.openWatches === 1, 'watch open');
      fake.createEvent(coreEvent({ name: 'first', time: now() }));
      await loki.waitForEntries(1);
      // A new leader (another replica) writes its checkpoint while this one still drains.
      const other = createConfigMapCheckpointStore({ namespace: 'kes', name: 'contested' }, { kubeConfig: fake.kubeConfig() });
      await other.load();
      await other.save({ resourceVersions: { '*': String(fake.resourceVersion + 100) }, positionTimeMs: Date.now(), recentIds: '' });
      theirs = fake.getObject('configmaps', 'kes', 'contested');
    } finally {
      await shipper.stop();
    }
    assert.deepEqual(fake.getObject('configmaps', 'kes', 'contested'), theirs, 'the other writer\'s checkpoint stays');
    assert.equal(await metricValue(shipper.metrics, 'kube_event_shipper_checkpoint_writes_total{result="conflict"}'), 1);
    assert.equal(await metricValue(shipper.metrics, 'kube_event_shipper_checkpoint_writes_total{result="success"}'), 0);
  });
});
