import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { createFileCheckpointStore } from '../../src/checkpoint/index.js';
import { FakeKubeApiServer } from '../fakes/kube-api-server.js';
import { coreEvent } from '../fakes/kube-events.js';
import { startFakeLoki } from '../fakes/loki-receiver.js';
import type { FakeLoki, StoredEntry } from '../fakes/loki-receiver.js';
import { duplicates, startShipper } from './harness.js';
import { metricValue } from '../support/metrics.js';
import { until } from '../support/wait.js';
import { capturingLogger } from '../support/logger.js';

const HOUR_MS = 3_600_000;
const iso = (offsetMs: number): string => new Date(Date.now() + offsetMs).toISOString();

const eventNames = (entries: readonly StoredEntry[]): string[] => entries.map((e) => / event=(\S+)/.exec(e.line)?.[1] ?? '?');

describe('ordering: nothing refused for its age or order by a stock Loki', () => {
  let fake: FakeKubeApiServer;
  let loki: FakeLoki;
  let dir: string;
  beforeEach(async () => {
    fake = await FakeKubeApiServer.start();
    loki = await startFakeLoki();
    dir = await mkdtemp(join(tmpdir(), 'kes-ordering-'));
  });
  afterEach(async () => {
    await fake.close();
    await loki.close();
    await rm(dir, { recursive: true, force: true });
  });

  /**
   * Lists every event with `--initial all` through the time sort (spilling to dir/sort past
   * `sortBudgetBytes`) and waits until Loki holds `n` entries and the list's summary is logged.
   */
  const shipListSorted = async (n: number, sortBudgetBytes: number) => {
    const sortDir = join(dir, 'sort');
    await mkdir(sortDir);
    const log = capturingLogger('info');
    const shipper = startShipper({
      fake,
      loki,
      checkpoint: undefined,
      source: { initial: { kind: 'all' }, pageSize: 100 },
      ordering: { sortBudgetBytes, sortDir },
      logger: log.logger,
    });
    try {
      await loki.waitForEntries(n, 20_000);
      await until(() => log.records.some((l) => l['msg'] === 'list shipped in time order'), 'list shipped');
    } finally {
      await shipper.stop();
    }
    const summary = log.records.find((l) => l['msg'] === 'list shipped in time order') ?? {};
    return { shipper, summary, sortDir, log };
  };

  it('--initial all over a list whose times span 6 h in key order: sorted through spilled runs with bounded memory, nothing refused, nothing lost', async () => {
    const n = 1_200;
    const times = new Map<string, string>();
    for (let i = 0; i < n; i++) {
      // Key order (name) is unrelated to time order: times jump back and forth over 6 h.
      const offset = -((i * 7_919) % n) * Math.floor((6 * HOUR_MS) / n) - 60_000;
      const name = `ev-${String(i).padStart(5, '0')}`;
      times.set(name, iso(offset));
      fake.createEvent(coreEvent({ namespace: `ns-${i % 3}`, name, reason: 'BackOff', time: times.get(name) }));
    }
    // The test can fail: in key order, a stock Loki would refuse many of these.
    const inKeyOrder = [...times.values()].map((t) => Date.parse(t));
    let newest = 0;
    const wouldRefuse = inKeyOrder.filter((t) => {
      const refused = t < newest - HOUR_MS;
      newest = Math.max(newest, t);
      return refused;
    }).length;
    assert.ok(wouldRefuse > n / 2, `${wouldRefuse} would be refused in key order`);

    // ~650 bytes per entry by the sorter's estimate (a record names its label set and metadata
    // names by number, not as JSON): runs of ~160 entries.
    const { shipper, summary, sortDir } = await shipListSorted(n, 100 * 1024);
    const stored = loki.entries();
    assert.deepEqual(loki.refusals(), [], 'the fake Loki (stock rules) refused nothing');
    assert.equal(stored.length, n);
    assert.deepEqual(eventNames(stored).sort(), [...times.keys()].sort(), 'every event once');
    assert.equal(await metricValue(shipper.metrics, 'kube_event_shipper_entries_retimed_total{reason="out_of_order"}'), 0, 'time order needs no retiming');
    assert.equal(summary['entries'], n);
    assert.ok((summary['spilledRuns'] as number) >= 5, `spilled ${String(summary['spilledRuns'])} runs`);
    // The structural memory bound: one run's worth in memory plus one head per run, never the whole list.
    assert.ok((summary['peakInMemory'] as number) <= 170 + (summary['spilledRuns'] as number), `peak ${String(summary['peakInMemory'])} entries in memory`);
    assert.deepEqual(await readdir(sortDir), [], 'the spilled runs are removed');
  });

  it('a list that fails part-way again and again is sorted afresh on each attempt: nothing kept twice, nothing lost', async () => {
    const n = 300;
    for (let i = 0; i < n; i++) {
      const name = `ev-${String(i).padStart(4, '0')}`;
      fake.createEvent(coreEvent({ namespace: 'ns', name, reason: 'BackOff', time: iso(-((i * 7_919) % n) * 60_000 - 60_000) }));
    }
    // The second page fails three times (continue token expired): each time the list starts over.
    fake.injectFault('list', { kind: 'expired-continue' }, 3);
    const { summary, sortDir, log } = await shipListSorted(n, 16 * 1024);
    assert.equal(summary['entries'], n, "only the last attempt's items were left to ship");
    assert.equal(summary['duplicates'], 0);
    assert.equal(log.records.filter((l) => l['msg'] === 'list started again; what the unfinished list left to sort is dropped').length, 3);
    assert.equal(loki.entries().length, n);
    assert.deepEqual(loki.refusals(), []);
    assert.deepEqual(await readdir(sortDir), [], 'no run left on disk');
  });

  it('an event bumped with an old time while the shipper was down is retimed (true time in the line, counted), not lost; a re-send collapses or is suppressed', async () => {
    const file = join(dir, 'checkpoint.json');
    const checkpoint = createFileCheckpointStore(file);
    fake.createEvent(coreEvent({ namespace: 'shop', name: 'victim', reason: 'BackOff', time: iso(-4 * HOUR_MS) }));
    const first = startShipper({ fake, loki, checkpoint, source: { initial: { kind: 'all' } } });
    try {
      await loki.waitForEntries(1);
      await until(() => fake.openWatches === 1, 'watching');
      fake.createEvent(coreEvent({ namespace: 'shop', name: 'fresh', reason: 'BackOff', time: iso(0) }));
      await loki.waitForEntries(2);
      await new Promise((r) => setTimeout(r, 200)); // a checkpoint write after the delivery
    } finally {
      await first.stop();
    }
    const afterFirst = join(dir, 'checkpoint-after-first.json');
    await copyFile(file, afterFirst);

    // While down: the same stream gets a new occurrence whose time is 3 h old (a late series
    // writer, a skewed node clock): Loki's stream already holds an entry from now.
    fake.bumpCount('shop/victim', iso(-3 * HOUR_MS));
    const second = startShipper({ fake, loki, checkpoint, source: { initial: { kind: 'all' } } });
    try {
      await loki.waitForEntries(3);
      // The same occurrence again (a metadata-only update): suppressed by the recent ids.
      fake.touchMetadata('shop/victim');
      fake.createEvent(coreEvent({ namespace: 'other', name: 'marker', time: iso(0) }));
      await loki.waitForEntries(4);
      await new Promise((r) => setTimeout(r, 200));
    } finally {
      await second.stop();
    }
    assert.equal(await metricValue(second.metrics, 'kube_event_shipper_entries_retimed_total{reason="out_of_order"}'), 1);
    assert.equal(await metricValue(second.metrics, 'kube_event_shipper_events_duplicate_total'), 1, 'the re-sent occurrence was suppressed');
    const bumped = loki.entries()[2]!;
    assert.match(bumped.line, / count=2 /);
    const trueTime = /original_ts=(\S+)/.exec(bumped.line)?.[1];
    assert.ok(trueTime !== undefined, `the true time is in the line: ${bumped.line}`);
    assert.ok(Math.abs(Date.parse(trueTime) - (Date.now() - 3 * HOUR_MS)) < 60_000);
    const freshNs = loki.entries()[1]!.timestampNs;
    assert.ok(bumped.timestampNs >= freshNs - 3_600_000_000_000n && bumped.timestampNs <= freshNs, 'moved to within the window of the newest');
    assert.deepEqual(loki.refusals(), [], 'the fake Loki (stock rules) refused nothing');

    // A crash after that delivery but before its checkpoint: the next run starts from the older
    // checkpoint and sends the occurrence again. It lands on the same time with the same line,
    // so Loki keeps one copy.
    await copyFile(afterFirst, file);
    const third = startShipper({ fake, loki, checkpoint, source: { initial: { kind: 'all' } } });
    try {
      await loki.waitForReceived(6);
    } finally {
      await third.stop();
    }
    const again = loki.received().slice(4);
    assert.deepEqual(eventNames(again).sort(), ['marker', 'victim']);
    assert.deepEqual(duplicates(loki.received()).length, 2, 'both re-sent entries are byte-identical to the first sends');
    assert.ok(duplicates(loki.received()).some((line) => line.includes('event=victim') && line.includes('original_ts=')));
    assert.equal(loki.entries().length, 4, 'Loki keeps one copy of each');
    assert.deepEqual(loki.refusals(), [], 'the fake Loki (stock rules) refused nothing');
  });

  it('a relist after a restart and a compaction brings an event bumped with an old time: retimed, counted, not lost', async () => {
    const checkpoint = createFileCheckpointStore(join(dir, 'checkpoint.json'));
    fake.createEvent(coreEvent({ namespace: 'shop', name: 'victim', reason: 'BackOff', time: iso(-5 * HOUR_MS) }));
    const first = startShipper({ fake, loki, checkpoint, source: { initial: { kind: 'all' } } });
    try {
      await loki.waitForEntries(1);
      await until(() => fake.openWatches === 1, 'watching');
      fake.createEvent(coreEvent({ namespace: 'shop', name: 'fresh', reason: 'BackOff', time: iso(0) }));
      await loki.waitForEntries(2);
      await new Promise((r) => setTimeout(r, 200)); // a checkpoint write after the delivery
    } finally {
      await first.stop();
    }
    // While down: an old-time bump of the same stream, then etcd compaction: the next run relists.
    fake.bumpCount('shop/victim', iso(-4 * HOUR_MS));
    fake.createEvent(coreEvent({ namespace: 'shop', name: 'while-down', reason: 'BackOff', time: iso(-30 * 60_000) }));
    fake.compact();
    const second = startShipper({ fake, loki, checkpoint, source: { initial: { kind: 'all' } } });
    try {
      await loki.waitForEntries(4);
    } finally {
      await second.stop();
    }
    assert.equal(await metricValue(second.metrics, 'kube_event_shipper_relists_total{reason="gone"}'), 1);
    assert.equal(await metricValue(second.metrics, 'kube_event_shipper_entries_retimed_total{reason="out_of_order"}'), 1, 'only the bump is moved');
    const relisted = loki.entries().slice(2);
    assert.deepEqual(eventNames(relisted), ['victim', 'while-down'], 'shipped oldest first');
    assert.match(relisted[0]!.line, / count=2 .*original_ts=\S+$/);
    assert.doesNotMatch(relisted[1]!.line, /original_ts=/, 'within the window: its true time');
    assert.deepEqual(loki.refusals(), [], 'the fake Loki (stock rules) refused nothing');
  });
});
