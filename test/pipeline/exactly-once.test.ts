import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createFileCheckpointStore } from '../../src/checkpoint/index.js';
import { FakeKubeApiServer } from '../fakes/kube-api-server.js';
import { coreEvent, newEvent } from '../fakes/kube-events.js';
import { startFakeLoki } from '../fakes/loki-receiver.js';
import type { FakeLoki } from '../fakes/loki-receiver.js';
import { duplicates, entriesPerEvent, startShipper } from './harness.js';
import { metricValue, readMetrics } from '../support/metrics.js';
import { until } from '../support/wait.js';
import type { RunningShipper, ShipperSetup } from './harness.js';

const REASONS = ['BackOff', 'Pulled', 'FailedScheduling', 'Unhealthy', 'Killing'];

describe('done when', () => {
  let fake: FakeKubeApiServer;
  let loki: FakeLoki;
  let dir: string;
  before(async () => {
    fake = await FakeKubeApiServer.start();
    loki = await startFakeLoki();
    dir = await mkdtemp(join(tmpdir(), 'kes-exactly-once-'));
  });
  after(async () => {
    await fake.close();
    await loki.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('10k events created across injected faults and two restarts arrive in Loki exactly once each', async () => {
    let created = 0;
    const create = (n: number): void => {
      for (let i = 0; i < n; i++) {
        const spec = { namespace: `ns-${created % 7}`, name: `ev-${created}`, reason: REASONS[created % REASONS.length]!, time: new Date().toISOString() };
        fake.createEvent(created % 5 === 0 ? newEvent(spec) : coreEvent(spec));
        created += 1;
      }
    };
    const touch = (n: number): void => {
      for (let i = 0; i < n; i++) {
        const k = (i * 997) % created;
        fake.touchMetadata(`ns-${k % 7}/ev-${k}`);
      }
    };
    const arrived = (): number => entriesPerEvent(loki.entries()).size;
    // The watch timers run on real time, in the process that also runs the fake API server and the
    // shipper: a short stall timeout (it bounds the wait for a watch's answer and the silence within
    // it too) lets a busy event loop turn a slow answer into an extra "error" restart, or a watch
    // into a "timeout" that swallows the fault it took. Only run 2, which needs a stall, gets a
    // short one, and only while nothing else is running.
    const setup: ShipperSetup = {
      fake,
      loki,
      checkpoint: createFileCheckpointStore(join(dir, 'checkpoint.json')),
      source: { stallTimeoutMs: 5_000, shortWatchLimit: 2 },
      drainTimeoutMs: 200,
    };
    let run: RunningShipper;
    const restarts = async (reason: string): Promise<number> => (await readMetrics(run.metrics)).sum('kube_event_shipper_watch_restarts_total', { reason });

    // Run 1: live watch, a connection drop mid-stream, 500s, an in-stream 410, Loki 500 and 429.
    run = startShipper(setup);
    await until(() => fake.openWatches === 1, 'run 1 watching');
    create(1000);
    fake.injectFault('watch', { kind: 'drop', afterEvents: 300 });
    fake.endWatches();
    loki.script({ status: 500 }, { status: 429 });
    create(1000);
    // Each fault is met before the next is scripted: the restarts they cause are counted one by one.
    await until(async () => (await restarts('error')) >= 1, 'run 1 met the drop', 20_000);
    fake.injectFault('watch', { kind: 'status', code: 500 }, 2);
    fake.endWatches();
    create(1000);
    await until(async () => (await restarts('error')) >= 3, 'run 1 met the two 500s', 20_000);
    fake.injectFault('watch', { kind: 'gone-in-stream' });
    fake.endWatches();
    create(500);
    await until(() => arrived() === 3500, 'run 1 shipped 3500', 20_000);
    await run.stop();
    assert.ok((await metricValue(run.metrics, 'kube_event_shipper_relists_total{reason="gone"}')) >= 1);
    assert.equal(await metricValue(run.metrics, 'kube_event_shipper_watch_restarts_total{reason="error"}'), 3, 'the drop and two 500s');
    assert.equal(fake.pendingFaults, 0);

    // Down: more events, metadata-only changes of shipped ones, then etcd compaction.
    create(2000);
    touch(300);
    fake.compact();

    // Run 2: 410 on resume → relist; a stalled watch; empty 200s; Loki hangs at shutdown.
    run = startShipper({ ...setup, source: { stallTimeoutMs: 1_000, shortWatchLimit: 2 } });
    await until(() => arrived() === 5500, 'run 2 relisted', 20_000);
    await until(() => fake.openWatches === 1, 'run 2 watching');
    fake.injectFault('watch', { kind: 'stall', trickle: true, trickleMs: 20 });
    fake.endWatches();
    create(1000);
    await until(async () => (await restarts('stall')) >= 1, 'run 2 met the stall', 20_000);
    fake.injectFault('watch', { kind: 'empty-200' }, 3);
    fake.endWatches();
    create(1000);
    await until(() => arrived() === 7500, 'run 2 shipped 7500', 20_000);
    loki.setDefaultReply({ hang: true });
    create(500);
    await loki.waitForRequests(loki.requests.length + 1);
    await run.stop();
    assert.ok((await metricValue(run.metrics, 'kube_event_shipper_events_dropped_total{reason="shutdown"}')) > 0, 'some entries were cut off at shutdown');
    assert.equal(await metricValue(run.metrics, 'kube_event_shipper_watch_restarts_total{reason="stall"}'), 1);
    assert.equal(await metricValue(run.metrics, 'kube_event_shipper_relists_total{reason="gone"}'), 1, 'the checkpoint was compacted away');
    assert.ok((await metricValue(run.metrics, 'kube_event_shipper_watch_restarts_total{reason="short_watch"}')) >= 1, 'empty 200s were watched again');
    assert.equal(fake.pendingFaults, 0);
    const listsBeforeRun3 = fake.count('list');
    loki.setDefaultReply({ status: 204 });

    // Down again (no compaction this time): the next run resumes by watching.
    create(2000);
    touch(200);

    // Run 3: ships what was cut off and what happened while down.
    run = startShipper(setup);
    try {
      await until(() => arrived() === 10_000, 'all 10k', 20_000);
      fake.createEvent(coreEvent({ name: 'sentinel', time: new Date().toISOString() }));
      await until(() => loki.entries().some((e) => e.line.includes('event=sentinel')), 'sentinel');
    } finally {
      await run.stop();
    }

    assert.equal(fake.count('list'), listsBeforeRun3, 'run 3 resumed from the checkpoint by watching');
    assert.equal(created, 10_000);
    const perEvent = entriesPerEvent(loki.entries());
    assert.equal(perEvent.size, 10_001);
    assert.deepEqual([...perEvent.values()].filter((n) => n !== 1), [], 'every event arrived exactly once');
    assert.deepEqual(duplicates(loki.entries()), []);
    assert.equal(loki.entries().length, 10_001);
  });
});
