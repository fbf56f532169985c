import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CHECKPOINT_KEY,
  ShippedCounts,
  createCheckpointStore,
  createConfigMapCheckpointStore,
  createFileCheckpointStore,
  parseCheckpoint,
  serializeCheckpoint,
} from '../../src/checkpoint/index.js';
import { RecentIds } from '../../src/pipeline/recent-ids.js';
import { DEFAULT_STREAM_CAPACITY, StreamTimes, streamKeyOf } from '../../src/pipeline/stream-times.js';
import type { CheckpointRecord } from '../../src/checkpoint/index.js';
import { FakeKubeApiServer } from '../fakes/kube-api-server.js';

function record(n: number, rv = '123', withCounts = true): CheckpointRecord {
  const ids = new RecentIds();
  const counts = new ShippedCounts();
  for (let i = 0; i < n; i++) {
    ids.add(`occurrence-${i}`);
    counts.raise(`event-${i}`, i + 1);
  }
  return { resourceVersions: { '*': rv }, positionTimeMs: Date.parse('2026-11-26T10:00:00.000Z'), recentIds: ids.serialize(), ...(withCounts ? { shippedCounts: counts.serialize() } : {}) };
}

describe('the recent ids in the checkpoint', () => {
  it('keeps a full checkpoint well under the 1 MiB ConfigMap limit', () => {
    const full = record(20_000, '123', false);
    const bytes = Buffer.byteLength(serializeCheckpoint(full));
    assert.ok(bytes < 300 * 1024, `${bytes} bytes`);
    const ids = new RecentIds();
    assert.ok(ids.load(full.recentIds));
    assert.equal(ids.size, 20_000);
  });
});

describe('the stream times in the checkpoint', () => {
  const full = (): CheckpointRecord => {
    const times = new StreamTimes(3_600_000);
    for (let i = 0; i < DEFAULT_STREAM_CAPACITY; i++) times.note(streamKeyOf({ job: 'kube-event-shipper', namespace: `ns-${i}` }), BigInt(Date.now()) * 1_000_000n + BigInt(i));
    return { ...record(20_000), streamTimes: times.serialize() };
  };

  it('round-trip with the record, and a full record (20 000 ids, 20 000 counts, 4 096 streams) stays well under the 1 MiB ConfigMap limit', () => {
    const rec = full();
    const text = serializeCheckpoint(rec);
    assert.ok(Buffer.byteLength(text) < 768 * 1024, `${Buffer.byteLength(text)} bytes`);
    const parsed = parseCheckpoint(text);
    assert.deepEqual(parsed, { kind: 'found', record: rec });
  });

  it('are optional: a checkpoint written before them is read as before', () => {
    const old = JSON.stringify({ format: 'kube-event-shipper/checkpoint', version: 2, positionTime: '2026-11-26T10:00:00.000Z', resourceVersions: { '*': '123' }, recentIds: record(3).recentIds });
    assert.deepEqual(parseCheckpoint(old), { kind: 'found', record: record(3, '123', false) });
  });

  it('are left out when damaged, without losing the rest of the checkpoint', () => {
    const damaged = JSON.stringify({ format: 'kube-event-shipper/checkpoint', version: 1, positionTime: '2026-11-26T10:00:00.000Z', resourceVersions: { '*': '123' }, recentIds: '', streamTimes: 42 });
    const parsed = parseCheckpoint(damaged);
    assert.equal(parsed.kind, 'found');
    assert.equal(parsed.kind === 'found' && parsed.record.streamTimes, undefined);
  });
});

describe('the count last shipped per event', () => {
  it('says the whole count for an unknown event, then only the rise; never below 0', () => {
    const counts = new ShippedCounts(10);
    assert.equal(counts.occurrencesOf('uid-a', 3), 3, 'first seen: the whole count');
    counts.raise('uid-a', 3);
    assert.equal(counts.occurrencesOf('uid-a', 23), 20, 'a jump of 20 adds 20');
    assert.equal(counts.occurrencesOf('uid-a', 3), 0, 'the same count again adds none');
    assert.equal(counts.occurrencesOf('uid-a', 1), 0, 'an older state adds none');
    counts.raise('uid-a', 1);
    assert.equal(counts.get('uid-a'), 3, 'a lower count does not lower the record');
    assert.equal(counts.occurrencesOf('uid-b', 1), 1);
  });

  it('evicts the least recently raised event beyond capacity; an evicted event counts whole again', () => {
    const counts = new ShippedCounts(2);
    counts.raise('a', 5);
    counts.raise('b', 5);
    counts.raise('a', 6); // refreshed: now the newest
    counts.raise('c', 1);
    assert.equal(counts.size, 2);
    assert.equal(counts.get('b'), undefined);
    assert.equal(counts.occurrencesOf('b', 7), 7);
    assert.equal(counts.get('a'), 6);
  });

  it('round-trips through its serialised form, keeping counts and order', () => {
    const counts = new ShippedCounts(10);
    for (let i = 0; i < 10; i++) counts.raise(`uid-${i}`, i * 1000 + 1);
    counts.raise('uid-0', 2_147_483_647); // int32 max, as Kubernetes allows
    const copy = new ShippedCounts(5);
    assert.ok(copy.load(counts.serialize()));
    assert.equal(copy.size, 5);
    assert.equal(copy.get('uid-0'), 2_147_483_647, 'raised last, so kept');
    assert.equal(copy.get('uid-9'), 9001);
    assert.equal(copy.get('uid-5'), undefined, 'among the oldest, so evicted');
    assert.equal(new ShippedCounts().load('not base64!'), false);
    assert.equal(new ShippedCounts().load(Buffer.alloc(8).toString('base64')), false, 'not whole records');
  });
});

describe('the checkpoint record', () => {
  it('keeps a checkpoint with both records full well under the 1 MiB ConfigMap limit', () => {
    const ids = new RecentIds();
    const counts = new ShippedCounts();
    for (let i = 0; i < ids.capacity; i++) ids.add(`00000000-0000-4000-8000-${String(i).padStart(12, '0')}:${2_000_000_000 + i}:1795688199123456789`);
    for (let i = 0; i < counts.capacity; i++) counts.raise(`00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, 2_000_000_000 + i);
    const text = serializeCheckpoint({
      resourceVersions: { '*': '18446744073709551615' },
      positionTimeMs: Date.parse('2026-11-26T10:00:00.000Z'),
      recentIds: ids.serialize(),
      shippedCounts: counts.serialize(),
    });
    const bytes = Buffer.byteLength(text);
    // 20 000 ids (~213 KB) + 20 000 counts (~320 KB): the rest of the MiB stays free for more fields.
    assert.ok(bytes < 560 * 1024, `${bytes} bytes`);
    const parsed = parseCheckpoint(text);
    assert.equal(parsed.kind, 'found');
    const loaded = new ShippedCounts();
    assert.ok(parsed.kind === 'found' && loaded.load(parsed.record.shippedCounts ?? ''));
    assert.equal(loaded.size, 20_000);
    assert.equal(loaded.get('00000000-0000-4000-8000-000000019999'), 2_000_019_999);
  });

  // Version 1 (SHA-256 hashes) had no shipped counts at first; version 2 may lack them too.
  for (const version of [1, 2]) {
    it(`reads a checkpoint written before the shipped counts existed (version ${version})`, () => {
      const old = JSON.stringify({ format: 'kube-event-shipper/checkpoint', version, positionTime: '2026-11-26T10:00:00.000Z', resourceVersions: { '*': '7' }, recentIds: '' });
      const parsed = parseCheckpoint(old);
      assert.equal(parsed.kind, 'found');
      assert.equal(parsed.kind === 'found' && parsed.record.shippedCounts, undefined);
      const rewritten = serializeCheckpoint(parsed.kind === 'found' ? parsed.record : record(0));
      if (version === 2) assert.equal(rewritten, old, 'and writes it back unchanged');
      assert.deepEqual(parseCheckpoint(rewritten), parsed, 'and writes it back as it read it');
    });
  }

  it('refuses a checkpoint whose shipped counts are not whole records', () => {
    const bad = JSON.stringify({ format: 'kube-event-shipper/checkpoint', version: 1, positionTime: '2026-11-26T10:00:00.000Z', resourceVersions: { '*': '7' }, recentIds: '', shippedCounts: 'AAAA' });
    assert.deepEqual(parseCheckpoint(bad), { kind: 'invalid', reason: 'bad shippedCounts' });
  });
});

describe('a version-1 checkpoint (ids and uids hashed with SHA-256)', () => {
  const sha8 = (s: string): Buffer => createHash('sha256').update(s).digest().subarray(0, 8);
  const u32 = (n: number): Buffer => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
  };
  /** Written here as version 1 wrote it, independently of src/. */
  const v1 = JSON.stringify({
    format: 'kube-event-shipper/checkpoint',
    version: 1,
    positionTime: '2026-11-26T10:00:00.000Z',
    resourceVersions: { '*': '42' },
    recentIds: Buffer.concat([sha8('uid-a:3:100'), sha8('uid-b:1:200')]).toString('base64'),
    shippedCounts: Buffer.concat([sha8('uid-a'), u32(3), sha8('uid-b'), u32(1)]).toString('base64'),
  });

  it('loads with its ids and counts as legacy records that mean what they meant', () => {
    const parsed = parseCheckpoint(v1);
    assert.equal(parsed.kind, 'found');
    const rec = parsed.kind === 'found' ? parsed.record : record(0);
    assert.deepEqual(rec.resourceVersions, { '*': '42' });
    assert.equal(rec.recentIds, '');
    const ids = new RecentIds();
    const counts = new ShippedCounts();
    assert.ok(rec.legacy !== undefined && ids.load(rec.legacy.recentIds, 'sha256') && counts.load(rec.legacy.shippedCounts ?? '', 'sha256'));
    assert.ok(ids.load(rec.recentIds) && counts.load(rec.shippedCounts ?? ''));
    assert.ok(ids.has('uid-a:3:100') && ids.has('uid-b:1:200'), 'shipped occurrences are not shipped again');
    assert.equal(ids.has('uid-a:4:150'), false, 'a new occurrence is');
    assert.equal(counts.get('uid-a'), 3);
    assert.equal(counts.occurrencesOf('uid-a', 23), 20, 'a jump adds its rise over the count version 1 shipped');
    assert.equal(counts.get('uid-c'), undefined);
  });

  it('is written back as version 2 holding the legacy records beside the current ones, which read the same', () => {
    const parsed = parseCheckpoint(v1);
    assert.ok(parsed.kind === 'found');
    const ids = new RecentIds();
    const counts = new ShippedCounts();
    ids.load(parsed.record.legacy?.recentIds ?? '', 'sha256');
    counts.load(parsed.record.legacy?.shippedCounts ?? '', 'sha256');
    ids.add('uid-c:1:300');
    counts.raise('uid-a', 23); // its legacy count becomes a current one
    counts.raise('uid-c', 1);
    const text = serializeCheckpoint({
      ...parsed.record,
      recentIds: ids.serialize(),
      shippedCounts: counts.serialize(),
      legacy: { recentIds: ids.serialize('sha256'), shippedCounts: counts.serialize('sha256') },
    });
    assert.equal((JSON.parse(text) as { version: unknown }).version, 2);
    const again = parseCheckpoint(text);
    assert.ok(again.kind === 'found' && again.record.legacy !== undefined);
    const ids2 = new RecentIds();
    const counts2 = new ShippedCounts();
    assert.ok(ids2.load(again.record.legacy.recentIds, 'sha256') && ids2.load(again.record.recentIds));
    assert.ok(counts2.load(again.record.legacy.shippedCounts ?? '', 'sha256') && counts2.load(again.record.shippedCounts ?? ''));
    assert.ok(ids2.has('uid-a:3:100') && ids2.has('uid-b:1:200') && ids2.has('uid-c:1:300'));
    assert.equal(counts2.get('uid-a'), 23);
    assert.equal(counts2.get('uid-b'), 1);
    assert.equal(counts2.get('uid-c'), 1);
    assert.equal(counts2.serialize('sha256'), Buffer.concat([sha8('uid-b'), u32(1)]).toString('base64'), 'only uid-b is still legacy');
  });

  it('keeps its legacy counts from lowering: a lower count raised after the upgrade changes nothing', () => {
    const counts = new ShippedCounts(10);
    assert.ok(counts.load(Buffer.concat([sha8('uid-a'), u32(7)]).toString('base64'), 'sha256'));
    counts.raise('uid-a', 2);
    assert.equal(counts.get('uid-a'), 7);
    assert.equal(counts.serialize('sha256'), '');
  });

  it('ages out oldest first, legacy counts before current ones', () => {
    const counts = new ShippedCounts(2);
    assert.ok(counts.load(Buffer.concat([sha8('old-1'), u32(1), sha8('old-2'), u32(2)]).toString('base64'), 'sha256'));
    counts.raise('new-1', 5);
    assert.equal(counts.get('old-1'), undefined);
    assert.equal(counts.get('old-2'), 2);
    counts.raise('new-2', 5);
    assert.equal(counts.get('old-2'), undefined);
    assert.equal(counts.size, 2);
    assert.equal(counts.serialize('sha256'), '');
  });

  it('refuses damaged legacy records in a version-2 checkpoint', () => {
    const bad = JSON.stringify({ format: 'kube-event-shipper/checkpoint', version: 2, positionTime: '2026-11-26T10:00:00.000Z', resourceVersions: { '*': '7' }, recentIds: '', sha256ShippedCounts: 'AAAA' });
    assert.deepEqual(parseCheckpoint(bad), { kind: 'invalid', reason: 'bad sha256ShippedCounts' });
  });
});

describe('the file checkpoint store', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kes-checkpoint-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('reports a missing file as missing', async () => {
    assert.deepEqual(await createFileCheckpointStore(join(dir, 'none.json')).load(), { kind: 'missing' });
  });

  it('round-trips a record and leaves no temporary file behind', async () => {
    const store = createFileCheckpointStore(join(dir, 'sub', 'cp.json'));
    await store.save(record(5, '42'));
    await store.save(record(7, '43'));
    const loaded = await store.load();
    assert.equal(loaded.kind, 'found');
    assert.deepEqual(loaded.kind === 'found' && loaded.record, record(7, '43'));
    assert.deepEqual(await readdir(join(dir, 'sub')), ['cp.json']);
  });

  for (const [what, text] of [
    ['corrupt JSON', '{"format": "kube-event-shipper/chec'],
    ['a foreign file', JSON.stringify({ hello: 'world' })],
    ['an unknown version', JSON.stringify({ format: 'kube-event-shipper/checkpoint', version: 99 })],
    ['a bad resourceVersion', JSON.stringify({ format: 'kube-event-shipper/checkpoint', version: 1, positionTime: '2026-01-01T00:00:00Z', resourceVersions: { '*': 5 }, recentIds: '' })],
  ] as const) {
    it(`reports ${what} as invalid instead of failing`, async () => {
      const path = join(dir, `${what.replace(/ /g, '-')}.json`);
      await writeFile(path, text);
      const loaded = await createFileCheckpointStore(path).load();
      assert.equal(loaded.kind, 'invalid');
    });
  }

  it('never overwrites a file another writer changed since this store read or wrote it; the next save goes ahead', async () => {
    const path = join(dir, 'shared.json');
    const a = createFileCheckpointStore(path);
    const b = createFileCheckpointStore(path);
    assert.equal((await a.load()).kind, 'missing');
    assert.equal((await b.load()).kind, 'missing');
    await b.save(record(2, '20'));
    await assert.rejects(() => a.save(record(1, '10')), { code: 'E_CHECKPOINT_CONFLICT' }, 'created by b after a found none');
    const kept = await b.load();
    assert.deepEqual(kept.kind === 'found' && kept.record.resourceVersions, { '*': '20' });
    await a.save(record(3, '30'));
    await assert.rejects(() => b.save(record(4, '40')), { code: 'E_CHECKPOINT_CONFLICT' }, 'replaced by a after b wrote');
    const now = await createFileCheckpointStore(path).load();
    assert.deepEqual(now.kind === 'found' && now.record.resourceVersions, { '*': '30' });
  });

  it('fails a write with a coded error when the directory cannot be made', async () => {
    const blocker = join(dir, 'blocker');
    await writeFile(blocker, 'a file, not a directory');
    await assert.rejects(() => createFileCheckpointStore(join(blocker, 'cp.json')).save(record(1)), { code: 'E_CHECKPOINT_WRITE' });
  });
});

describe('the ConfigMap checkpoint store', () => {
  let fake: FakeKubeApiServer;
  before(async () => {
    fake = await FakeKubeApiServer.start();
  });
  after(() => fake.close());

  it('creates the ConfigMap when missing and round-trips the record through the API server', async () => {
    const store = createConfigMapCheckpointStore({ namespace: 'kes', name: 'cp' }, { kubeConfig: fake.kubeConfig() });
    assert.deepEqual(await store.load(), { kind: 'missing' });
    await store.save(record(3, '100'));
    await store.save(record(4, '101'));
    const stored = fake.getObject('configmaps', 'kes', 'cp');
    assert.equal((stored?.['metadata'] as { labels: Record<string, string> }).labels['app.kubernetes.io/managed-by'], 'kube-event-shipper');
    const fresh = createConfigMapCheckpointStore({ namespace: 'kes', name: 'cp' }, { kubeConfig: fake.kubeConfig() });
    const loaded = await fresh.load();
    assert.deepEqual(loaded.kind === 'found' && loaded.record, record(4, '101'));
    assert.equal(fake.requests.filter((r) => r.endpoint === 'configmaps' && r.method === 'POST').length, 1);
  });

  // Was: 'survives a conflicting write by reading again and replacing' — that replaced whatever
  // the other writer (a new leader) had stored with an older record. A 409 now overwrites nothing.
  it('never overwrites a checkpoint another writer changed since it read it (409): counts it as a conflict, and writes again on the next save', async () => {
    const store = createConfigMapCheckpointStore({ namespace: 'kes', name: 'conflict' }, { kubeConfig: fake.kubeConfig() });
    await store.save(record(1, '1'));
    // A new leader reads the checkpoint and writes a newer one.
    const newLeader = createConfigMapCheckpointStore({ namespace: 'kes', name: 'conflict' }, { kubeConfig: fake.kubeConfig() });
    assert.equal((await newLeader.load()).kind, 'found');
    await newLeader.save(record(5, '5'));
    const puts = () => fake.requests.filter((r) => r.endpoint === 'configmaps' && r.method === 'PUT').length;
    const putsBefore = puts();
    await assert.rejects(() => store.save(record(2, '2')), { code: 'E_CHECKPOINT_CONFLICT' });
    assert.equal(puts(), putsBefore + 1, 'one conditional PUT, answered 409, and no second try');
    const after = await newLeader.load();
    assert.deepEqual(after.kind === 'found' && after.record.resourceVersions, { '*': '5' }, 'the newer checkpoint stays');
    // Still the writer (the term fence decides that, not the store): the next save goes through.
    await store.save(record(3, '3'));
    const loaded = await newLeader.load();
    assert.deepEqual(loaded.kind === 'found' && loaded.record.resourceVersions, { '*': '3' });
  });

  it('does not overwrite a checkpoint created by another writer after it found none', async () => {
    const a = createConfigMapCheckpointStore({ namespace: 'kes', name: 'race' }, { kubeConfig: fake.kubeConfig() });
    const b = createConfigMapCheckpointStore({ namespace: 'kes', name: 'race' }, { kubeConfig: fake.kubeConfig() });
    assert.equal((await a.load()).kind, 'missing');
    assert.equal((await b.load()).kind, 'missing');
    await b.save(record(7, '7'));
    await assert.rejects(() => a.save(record(1, '1')), { code: 'E_CHECKPOINT_CONFLICT' });
    const loaded = await b.load();
    assert.deepEqual(loaded.kind === 'found' && loaded.record.resourceVersions, { '*': '7' });
  });

  it('creates the ConfigMap again when it was deleted', async () => {
    const store = createConfigMapCheckpointStore({ namespace: 'kes', name: 'deleted' }, { kubeConfig: fake.kubeConfig() });
    await store.save(record(1, '1'));
    fake.deleteObject('configmaps', 'kes', 'deleted');
    await store.save(record(2, '2'));
    const loaded = await store.load();
    assert.deepEqual(loaded.kind === 'found' && loaded.record.resourceVersions, { '*': '2' });
  });

  it('ignores and never overwrites a foreign ConfigMap of the same name', async () => {
    fake.putObject('configmaps', { metadata: { namespace: 'kes', name: 'theirs' }, data: { 'app.conf': 'x=1' } });
    const store = createConfigMapCheckpointStore({ namespace: 'kes', name: 'theirs' }, { kubeConfig: fake.kubeConfig() });
    const loaded = await store.load();
    assert.equal(loaded.kind, 'invalid');
    await assert.rejects(() => store.save(record(1)), { code: 'E_CHECKPOINT_FOREIGN' });
    assert.deepEqual(fake.getObject('configmaps', 'kes', 'theirs')?.['data'], { 'app.conf': 'x=1' });
  });

  it('reports a corrupt checkpoint in our ConfigMap as invalid, then replaces it', async () => {
    fake.putObject('configmaps', { metadata: { namespace: 'kes', name: 'corrupt', labels: { 'app.kubernetes.io/managed-by': 'kube-event-shipper' } }, data: { [CHECKPOINT_KEY]: '{{{' } });
    const store = createConfigMapCheckpointStore({ namespace: 'kes', name: 'corrupt' }, { kubeConfig: fake.kubeConfig() });
    assert.equal((await store.load()).kind, 'invalid');
    await store.save(record(1, '9'));
    assert.equal((await store.load()).kind, 'found');
  });

  it('fails a read with a coded error when the API server refuses', async () => {
    const store = createConfigMapCheckpointStore({ namespace: 'kes', name: 'cp' }, { kubeConfig: fake.kubeConfig() });
    const kc = fake.kubeConfig();
    const wrong = createConfigMapCheckpointStore({ namespace: 'kes', name: 'cp' }, { kubeConfig: withToken(kc, 'wrong') });
    await assert.rejects(() => wrong.load(), { code: 'E_CHECKPOINT_READ' });
    assert.equal((await store.load()).kind, 'found');
  });
});

function withToken(kc: ReturnType<FakeKubeApiServer['kubeConfig']>, token: string): typeof kc {
  const copy = new (kc.constructor as new () => typeof kc)();
  copy.loadFromOptions({
    clusters: kc.clusters,
    users: [{ name: 'fake-user', token }],
    contexts: kc.contexts,
    currentContext: kc.currentContext,
  });
  return copy;
}


describe('choosing the checkpoint store', () => {
  it('prefers the ConfigMap, then the file, else none', async () => {
    const fake = await FakeKubeApiServer.start();
    try {
      const kubeConfig = fake.kubeConfig();
      assert.equal(createCheckpointStore({ file: '/tmp/x.json', configMap: { namespace: 'kes', name: 'cp' } }, { kubeConfig })?.description, 'configmap kes/cp');
      assert.equal(createCheckpointStore({ file: '/tmp/x.json' }, { kubeConfig })?.description, 'file /tmp/x.json');
      assert.equal(createCheckpointStore({}, { kubeConfig }), undefined);
    } finally {
      await fake.close();
    }
  });
});
