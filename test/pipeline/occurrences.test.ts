/**
 * The `occurrences` structured metadata end to end: the real shipper (and the real replay) between
 * the fake API server and the fake Loki. Loki keeps the first of entries with the same stream,
 * timestamp and line whatever their metadata (measured on Loki 3.2.2; the fake's `entries()` does
 * the same, `received()` is everything sent), so what matters is what the first copy says and that
 * copies sent again say the same.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { afterEach, beforeEach, describe, it } from 'node:test';
import pino from 'pino';
import { createConfigMapCheckpointStore, createFileCheckpointStore } from '../../src/checkpoint/index.js';
import { replay } from '../../src/pipeline/replay.js';
import { systemClock } from '../../src/core/clock.js';
import { ignoreProgress } from '../../src/core/progress.js';
import { createMetrics } from '../../src/observe/metrics.js';
import { createLokiSink } from '../../src/sink/loki/index.js';
import { createTransformer, DEFAULT_TRANSFORM_OPTIONS, normalizeEvent, occurrenceIdOf } from '../../src/transform/index.js';
import { FakeKubeApiServer } from '../fakes/kube-api-server.js';
import type { KubeObject } from '../fakes/kube-api-server.js';
import { coreEvent, newEvent } from '../fakes/kube-events.js';
import { startFakeLoki } from '../fakes/loki-receiver.js';
import type { FakeLoki, StoredEntry } from '../fakes/loki-receiver.js';
import { until } from '../support/wait.js';
import { startShipper } from './harness.js';
import type { RunningShipper, ShipperSetup } from './harness.js';

const now = (offsetMs = 0): string => new Date(Date.now() + offsetMs).toISOString();

/** One event's entries, in arrival order: [count from the line, occurrences from the metadata]. */
function countsOf(entries: readonly StoredEntry[], uid: string): [number, number][] {
  return entries
    .filter((e) => e.structuredMetadata['event_uid'] === uid)
    .map((e) => [Number(/ count=(\d+) /.exec(e.line)?.[1]), Number(e.structuredMetadata['occurrences'])]);
}

const uidOf = (stored: KubeObject): string => (stored['metadata'] as { uid: string }).uid;
const wire = (e: StoredEntry): string => JSON.stringify([e.labels, e.ts, e.line, e.structuredMetadata]);

/** Sends of the same entry (same stream, timestamp, line) that differ in anything, metadata included. */
function differingCopies(entries: readonly StoredEntry[]): string[] {
  const first = new Map<string, string>();
  const problems: string[] = [];
  for (const e of entries) {
    const key = `${e.labels}\u0000${e.ts}\u0000${e.line}`;
    const w = wire(e);
    const known = first.get(key);
    if (known === undefined) first.set(key, w);
    else if (known !== w) problems.push(`${known}\n  vs ${w}`);
  }
  return problems;
}

describe('how many occurrences an entry adds', () => {
  let fake: FakeKubeApiServer;
  let loki: FakeLoki;
  let dir: string;
  let running: RunningShipper[];
  beforeEach(async () => {
    fake = await FakeKubeApiServer.start();
    loki = await startFakeLoki();
    dir = await mkdtemp(join(tmpdir(), 'kes-occurrences-'));
    running = [];
  });
  afterEach(async () => {
    await Promise.all(running.map((r) => r.stop()));
    await fake.close();
    await loki.close();
    await rm(dir, { recursive: true, force: true });
  });
  const start = (setup: Omit<ShipperSetup, 'fake' | 'loki'>): RunningShipper => {
    const run = startShipper({ fake, loki, ...setup });
    running.push(run);
    return run;
  };
  const stop = async (run: RunningShipper): Promise<void> => {
    running = running.filter((r) => r !== run);
    await run.stop();
  };
  const entriesOf = (uid: string): number => loki.received().filter((e) => e.structuredMetadata['event_uid'] === uid).length;

  for (const api of ['core/v1', 'events.k8s.io/v1'] as const) {
    it(`a count jump of 20 ships one entry that adds 20 (${api} watch)`, async () => {
      const run = start({ checkpoint: undefined, source: { api } });
      await until(() => fake.openWatches === 1, 'watch open');
      const old = uidOf(fake.createEvent(coreEvent({ name: 'backoff', type: 'Warning', time: now() })));
      const scheduler = uidOf(fake.createEvent(newEvent({ name: 'unschedulable', time: now() })));
      await until(() => entriesOf(old) === 1 && entriesOf(scheduler) === 1, 'both first seen');
      fake.bumpCount('default/backoff', now(1_000), 20); // the recorder's rate limit folded 20 into one write
      fake.updateEvent('default/unschedulable', (o) => (o['series'] = { count: 21, lastObservedTime: now(1_000) }));
      fake.touchMetadata('default/backoff'); // no occurrence: ships nothing
      await until(() => entriesOf(old) === 2 && entriesOf(scheduler) === 2, 'both jumps');
      fake.bumpCount('default/backoff', now(2_000));
      await until(() => entriesOf(old) === 3, 'one more');
      await stop(run);

      assert.deepEqual(countsOf(loki.received(), old), [
        [1, 1],
        [21, 20],
        [22, 1],
      ]);
      assert.deepEqual(countsOf(loki.received(), scheduler), [
        [1, 1],
        [21, 20],
      ]);
      const level = (uid: string): string[] => loki.received().filter((e) => e.structuredMetadata['event_uid'] === uid).map((e) => e.structuredMetadata['level'] ?? '');
      assert.deepEqual(level(old), ['warn', 'warn', 'warn'], 'type Warning is level warn');
    });
  }

  /** A checkpoint store of either kind, and a way to put back what it held at some moment (as if later writes never happened). */
  const stores = {
    file: () => {
      const file = join(dir, 'checkpoint.json');
      const copy = join(dir, 'checkpoint-copy.json');
      return {
        checkpoint: createFileCheckpointStore(file),
        snapshot: async (): Promise<() => Promise<void>> => {
          await copyFile(file, copy);
          return () => copyFile(copy, file);
        },
      };
    },
    configmap: () => {
      const ref = { namespace: 'kes', name: 'kes-checkpoint' };
      return {
        checkpoint: createConfigMapCheckpointStore(ref, { kubeConfig: fake.kubeConfig() }),
        snapshot: (): Promise<() => Promise<void>> => {
          const held = fake.getObject('configmaps', ref.namespace, ref.name);
          assert.ok(held, 'the checkpoint ConfigMap exists');
          return Promise.resolve(() => {
            fake.putObject('configmaps', held);
            return Promise.resolve();
          });
        },
      };
    },
  };

  for (const kind of ['file', 'configmap'] as const) {
    it(`a restart ships the same occurrence again with the same field, and the record survives restarts (${kind} checkpoint)`, async () => {
      await restartScenario(stores[kind]());
    });
  }

  const restartScenario = async ({ checkpoint, snapshot }: ReturnType<(typeof stores)['file']>): Promise<void> => {
    let run = start({ checkpoint });
    await until(() => fake.openWatches === 1, 'run 1 watching');
    const uid = uidOf(fake.createEvent(coreEvent({ name: 'flapping', time: now() })));
    await until(() => entriesOf(uid) === 1, 'first seen');
    await stop(run);
    const restore = await snapshot();

    // Run 2 ships the jump and checkpoints it.
    run = start({ checkpoint });
    await until(() => fake.openWatches === 1, 'run 2 watching');
    fake.bumpCount('default/flapping', now(1_000), 20);
    await until(() => entriesOf(uid) === 2, 'the jump');
    await stop(run);

    // As if run 2 had died before writing its checkpoint: run 3 resumes from before the jump, by watching.
    await restore();
    const listsBefore = fake.count('list');
    run = start({ checkpoint });
    await until(() => entriesOf(uid) === 3, 'the jump sent again');
    fake.bumpCount('default/flapping', now(2_000), 2);
    await until(() => entriesOf(uid) === 4, 'two more');
    await stop(run);
    assert.equal(fake.count('list'), listsBefore, 'run 3 resumed by watching');

    // Run 4 resumes from run 3's checkpoint: nothing again, and the next rise counts from 23.
    run = start({ checkpoint });
    await until(() => fake.openWatches === 1, 'run 4 watching');
    fake.bumpCount('default/flapping', now(3_000));
    await until(() => entriesOf(uid) === 5, 'one more');
    await stop(run);

    assert.deepEqual(countsOf(loki.received(), uid), [
      [1, 1],
      [21, 20],
      [21, 20],
      [23, 2],
      [24, 1],
    ]);
    assert.deepEqual(differingCopies(loki.received()), [], 'the copy sent again is byte-identical, metadata included');
    const kept = countsOf(loki.entries(), uid);
    assert.equal(kept.reduce((sum, [, n]) => sum + n, 0), 24, 'Loki sums to the event count');
  };

  it('a checkpoint written before the counts existed is read; each event then counts its whole count once', async () => {
    const file = join(dir, 'checkpoint.json');
    const checkpoint = createFileCheckpointStore(file);
    let run = start({ checkpoint });
    await until(() => fake.openWatches === 1, 'run 1 watching');
    const uid = uidOf(fake.createEvent(coreEvent({ name: 'flapping', time: now() })));
    await until(() => entriesOf(uid) === 1, 'first seen');
    await stop(run);
    // What an older shipper wrote: the same record without the counts.
    const written = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    assert.equal(typeof written['shippedCounts'], 'string');
    delete written['shippedCounts'];
    writeFileSync(file, JSON.stringify(written));

    const listsBefore = fake.count('list');
    run = start({ checkpoint });
    await until(() => fake.openWatches === 1, 'run 2 watching');
    fake.bumpCount('default/flapping', now(1_000), 20);
    await until(() => entriesOf(uid) === 2, 'the jump');
    await stop(run);
    assert.equal(fake.count('list'), listsBefore, 'resumed from the old checkpoint by watching');

    run = start({ checkpoint });
    await until(() => fake.openWatches === 1, 'run 3 watching');
    fake.bumpCount('default/flapping', now(2_000));
    await until(() => entriesOf(uid) === 3, 'one more');
    await stop(run);
    // The documented fallback: the first update after the upgrade counts the whole count (21, not 20).
    assert.deepEqual(countsOf(loki.received(), uid), [
      [1, 1],
      [21, 21],
      [22, 1],
    ]);
  });

  it('an upgrade from a version-1 checkpoint (ids and uids hashed with SHA-256) ships nothing again and keeps the counts, also over the next restart', async () => {
    const file = join(dir, 'checkpoint.json');
    const checkpoint = createFileCheckpointStore(file);
    let run = start({ checkpoint });
    await until(() => fake.openWatches === 1, 'run 1 watching');
    const flapping = fake.createEvent(coreEvent({ name: 'flapping', time: now() }));
    const steady = fake.createEvent(coreEvent({ name: 'steady', time: now() }));
    const uid = uidOf(flapping);
    const steadyUid = uidOf(steady);
    await until(() => entriesOf(uid) === 1 && entriesOf(steadyUid) === 1, 'first seen');
    await stop(run);
    // The same state as version 1 wrote it (written here independently of src/): SHA-256 hashes.
    const written = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    const sha8 = (s: string): Buffer => createHash('sha256').update(s).digest().subarray(0, 8);
    const one = Buffer.alloc(4);
    one.writeUInt32BE(1);
    const idOf = (o: KubeObject): string => {
      const n = normalizeEvent(o);
      assert.ok(n.ok);
      return occurrenceIdOf(n.event);
    };
    writeFileSync(
      file,
      JSON.stringify({
        format: written['format'],
        version: 1,
        positionTime: written['positionTime'],
        resourceVersions: written['resourceVersions'],
        recentIds: Buffer.concat([sha8(idOf(flapping)), sha8(idOf(steady))]).toString('base64'),
        shippedCounts: Buffer.concat([sha8(uid), one, sha8(steadyUid), one]).toString('base64'),
      }),
    );

    // While down: metadata-only updates of both (the same occurrences, newer resourceVersions), a
    // third event, then compaction: the upgraded shipper relists all three.
    fake.touchMetadata('default/flapping');
    fake.touchMetadata('default/steady');
    const third = uidOf(fake.createEvent(coreEvent({ name: 'third', time: now(500) })));
    fake.compact();
    run = start({ checkpoint });
    await until(() => entriesOf(third) === 1, 'the relist shipped');
    fake.bumpCount('default/flapping', now(1_000), 20);
    await until(() => entriesOf(uid) === 2, 'the jump');
    await stop(run);
    const upgraded = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    assert.equal(upgraded['version'], 2);
    assert.equal(typeof upgraded['sha256RecentIds'], 'string', 'the ids it read are kept until they age out');

    // The next restart reads the legacy records back from version 2.
    fake.touchMetadata('default/steady');
    const fourth = uidOf(fake.createEvent(coreEvent({ name: 'fourth', time: now(1_500) })));
    fake.compact();
    run = start({ checkpoint });
    await until(() => entriesOf(fourth) === 1, 'the second relist shipped');
    await stop(run);

    assert.deepEqual(countsOf(loki.received(), uid), [
      [1, 1],
      [21, 20],
    ], 'not sent again after the upgrade; the jump adds its rise over what version 1 shipped');
    assert.deepEqual(countsOf(loki.received(), steadyUid), [[1, 1]], 'the unchanged event is not sent again');
    assert.deepEqual(countsOf(loki.received(), third), [[1, 1]]);
  });

  it('a relist ships the same occurrence again with the same field, and counts what happened while down', async () => {
    const file = join(dir, 'checkpoint.json');
    const snapshot = join(dir, 'checkpoint-before-the-jump.json');
    const checkpoint = createFileCheckpointStore(file);

    let run = start({ checkpoint });
    await until(() => fake.openWatches === 1, 'run 1 watching');
    const uid = uidOf(fake.createEvent(coreEvent({ name: 'flapping', time: now() })));
    const steady = uidOf(fake.createEvent(coreEvent({ name: 'steady', time: now() })));
    await until(() => entriesOf(uid) === 1 && entriesOf(steady) === 1, 'first seen');
    await stop(run);
    await copyFile(file, snapshot);

    run = start({ checkpoint });
    await until(() => fake.openWatches === 1, 'run 2 watching');
    fake.bumpCount('default/flapping', now(1_000), 20);
    await until(() => entriesOf(uid) === 2, 'the jump');
    await stop(run);

    // Run 3 resumes from before the jump after etcd compacted the history: 410, relist.
    await copyFile(snapshot, file);
    fake.compact();
    run = start({ checkpoint });
    await until(() => entriesOf(uid) === 3, 'the jump relisted');
    await stop(run);

    // While down: 5 more occurrences of which the first 4 are superseded, then compaction again.
    for (let i = 1; i <= 5; i++) fake.bumpCount('default/flapping', now(1_000 + i * 100));
    fake.compact();
    run = start({ checkpoint });
    await until(() => entriesOf(uid) === 4, 'the newest state relisted');
    await stop(run);

    assert.deepEqual(countsOf(loki.received(), uid), [
      [1, 1],
      [21, 20],
      [21, 20],
      [26, 5],
    ]);
    assert.deepEqual(countsOf(loki.received(), steady), [[1, 1]], 'the unchanged event is not sent again');
    assert.deepEqual(differingCopies(loki.received()), []);
  });

  it('a replay of the same occurrences ships them with the same field; a list of the newest state ships its whole count, which Loki ignores', async () => {
    const run = start({ checkpoint: undefined });
    await until(() => fake.openWatches === 1, 'watch open');
    const dump: string[] = [];
    const created = fake.createEvent(coreEvent({ name: 'flapping', time: now() }));
    const uid = uidOf(created);
    dump.push(JSON.stringify({ type: 'ADDED', object: created }));
    await until(() => entriesOf(uid) === 1, 'first seen');
    const jumped = fake.bumpCount('default/flapping', now(1_000), 20);
    dump.push(JSON.stringify({ type: 'MODIFIED', object: jumped }));
    await until(() => entriesOf(uid) === 2, 'the jump');
    await stop(run);
    const shipped = loki.received().map(wire);

    const replayInto = async (text: string): Promise<void> => {
      const metrics = createMetrics({ version: 'test' });
      const logger = pino({ level: 'silent' });
      const deps = { metrics, logger, clock: systemClock, random: Math.random, progress: ignoreProgress };
      const summary = await replay(
        Readable.from([text]),
        {
          transformer: createTransformer(DEFAULT_TRANSFORM_OPTIONS, { now: () => Date.now() }),
          sink: createLokiSink({ url: loki.url, batchMaxWaitMs: 10, minBackoffMs: 5, maxBackoffMs: 50, timeoutMs: 2_000 }, deps),
          logger,
          metrics,
          clock: systemClock,
          progressOut: new Writable({ write: (_c, _e, done) => done() }),
          progressEveryMs: 60_000,
          drainTimeoutMs: 2_000,
          sortByTime: true,
        },
        new AbortController().signal,
      );
      assert.equal(summary.dropped, 0);
    };

    // The watch dump holds the event's history: the same two entries, byte for byte.
    await replayInto(`${dump.join('\n')}\n`);
    assert.deepEqual(loki.received().slice(2).map(wire), shipped);

    // `kubectl get events -o json` holds only the newest state: first seen by this replay, whole count.
    await replayInto(JSON.stringify({ kind: 'List', apiVersion: 'v1', items: fake.events() }, null, 2));
    assert.deepEqual(countsOf(loki.received(), uid).slice(4), [[21, 21]]);
    // Same stream, time and line as the stored entry: Loki keeps the first, so the sum stays right.
    assert.deepEqual(countsOf(loki.entries(), uid), [
      [1, 1],
      [21, 20],
    ]);
  });

  it('two replicas overlapping ship each occurrence once in Loki, with the same field', async () => {
    const fileA = join(dir, 'a.json');
    const fileB = join(dir, 'b.json');
    const a = start({ checkpoint: createFileCheckpointStore(fileA), checkpointIntervalMs: 20 });
    await until(() => fake.openWatches === 1, 'a watching');
    const created = fake.createEvent(coreEvent({ name: 'flapping', time: now() }));
    const uid = uidOf(created);
    const createdRv = Number((created['metadata'] as { resourceVersion: string }).resourceVersion);
    await until(() => entriesOf(uid) === 1, 'a ships the first');
    await until(() => Number(checkpointRv(fileA) ?? 0) >= createdRv, 'a checkpoints it');
    // B will take over from this checkpoint (a failover inside A's checkpoint interval) while A
    // still runs: both ship everything after it.
    await copyFile(fileA, fileB);
    fake.bumpCount('default/flapping', now(1_000), 4);
    await until(() => entriesOf(uid) === 2, 'a ships a rise');

    const b = start({ checkpoint: createFileCheckpointStore(fileB) });
    await until(() => entriesOf(uid) === 3, 'b ships the rise A shipped after its checkpoint');
    await until(() => fake.openWatches === 2, 'both watching');
    fake.bumpCount('default/flapping', now(2_000), 20);
    fake.bumpCount('default/flapping', now(3_000), 3);
    await until(() => entriesOf(uid) === 7, 'both ship both rises');
    await stop(a);
    await stop(b);

    const received = countsOf(loki.received(), uid);
    assert.deepEqual(received.map(([c]) => c).sort((x, y) => x - y), [1, 5, 5, 25, 25, 28, 28], 'A and B both sent what followed the checkpoint');
    assert.deepEqual(differingCopies(loki.received()), [], 'the copies of an occurrence carry the same occurrences (and are byte-identical)');
    assert.deepEqual(
      countsOf(loki.entries(), uid).sort(([x], [y]) => x - y),
      [
        [1, 1],
        [5, 4],
        [25, 20],
        [28, 3],
      ],
      'Loki holds each occurrence once, summing to the count',
    );
  });
});

/** The resourceVersion a checkpoint file holds for the all-namespaces stream, if written yet. */
function checkpointRv(file: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { resourceVersions: Record<string, string> }).resourceVersions['*'];
  } catch {
    return undefined;
  }
}
