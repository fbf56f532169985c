import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApiException, AuthorizationV1Api, CoordinationV1Api, CoreV1Api, HttpMethod, RequestContext, Watch } from '@kubernetes/client-node';
import { fetch } from 'undici';
import { FakeKubeApiServer } from '../fakes/kube-api-server.js';
import type { KubeObject } from '../fakes/kube-api-server.js';
import { coreEvent, newEvent } from '../fakes/kube-events.js';
import { until } from '../support/wait.js';

async function rawGet(fake: FakeKubeApiServer, path: string): Promise<{ status: number; body: KubeObject }> {
  const kc = fake.kubeConfig();
  const ctx = new RequestContext(fake.url + path, HttpMethod.GET);
  await kc.applySecurityAuthentication(ctx);
  const res = await fetch(ctx.getUrl(), { headers: ctx.getHeaders(), dispatcher: ctx.getDispatcher() });
  return { status: res.status, body: (await res.json()) as KubeObject };
}

interface Seen {
  readonly type: string;
  readonly object: KubeObject;
}

/** Runs one watch through the real client-node Watch until it ends; returns what arrived and how it ended. */
function watchUntilDone(fake: FakeKubeApiServer, path: string, query: Record<string, string | number | boolean>, requestTimeoutMs = 30_000): Promise<{ seen: Seen[]; err: unknown }> {
  const watch = new Watch(fake.kubeConfig());
  // A plain property at runtime, declared private in the typings.
  (watch as unknown as { requestTimeoutMs: number }).requestTimeoutMs = requestTimeoutMs;
  const seen: Seen[] = [];
  return new Promise((resolve) => {
    void watch.watch(path, query, (type, object: KubeObject) => seen.push({ type, object }), (err: unknown) => resolve({ seen, err }));
  });
}

describe('the fake kube-apiserver', () => {
  let fake: FakeKubeApiServer;
  before(async () => {
    fake = await FakeKubeApiServer.start({ maxWatchMs: 2_000 });
  });
  after(() => fake.close());

  it('pages a list with limit and continue from one consistent snapshot', async () => {
    for (let i = 0; i < 7; i++) fake.createEvent(coreEvent({ namespace: 'paging', name: `e${i}` }));
    const first = await rawGet(fake, '/api/v1/namespaces/paging/events?limit=3');
    assert.equal(first.status, 200);
    assert.equal(first.body['kind'], 'EventList');
    const meta = first.body['metadata'] as { resourceVersion: string; continue: string };
    fake.createEvent(coreEvent({ namespace: 'paging', name: 'e9' }));
    fake.updateEvent('paging/e5', (o) => (o['message'] = 'changed'));
    const names: string[] = (first.body['items'] as KubeObject[]).map((i) => (i['metadata'] as { name: string }).name);
    let token: string | undefined = meta.continue;
    while (token) {
      const page = await rawGet(fake, `/api/v1/namespaces/paging/events?limit=3&continue=${token}`);
      const items = page.body['items'] as KubeObject[];
      names.push(...items.map((i) => (i['metadata'] as { name: string }).name));
      assert.ok(items.every((i) => i['message'] !== 'changed'), 'a later page still shows the snapshot');
      token = (page.body['metadata'] as { continue?: string }).continue;
    }
    assert.deepEqual(names, ['e0', 'e1', 'e2', 'e3', 'e4', 'e5', 'e6']);
    assert.equal((first.body['items'] as KubeObject[])[0]!['kind'], undefined, 'list items carry no kind, as on a real server');
  });

  it('answers an expired continue token with 410 and a fresh continue', async () => {
    for (let i = 0; i < 4; i++) fake.createEvent(coreEvent({ namespace: 'expiry', name: `x${i}` }));
    const first = await rawGet(fake, '/api/v1/namespaces/expiry/events?limit=2');
    fake.createEvent(coreEvent({ namespace: 'expiry', name: 'later' }));
    fake.compact();
    const token = (first.body['metadata'] as { continue: string }).continue;
    const expired = await rawGet(fake, `/api/v1/namespaces/expiry/events?limit=2&continue=${token}`);
    assert.equal(expired.status, 410);
    assert.equal(expired.body['reason'], 'Expired');
    assert.equal(expired.body['code'], 410);
    assert.equal(typeof (expired.body['metadata'] as { continue?: string }).continue, 'string');
  });

  it('filters by field selector and rejects unknown fields with 400', async () => {
    fake.createEvent(coreEvent({ namespace: 'sel', name: 'w', type: 'Warning', kind: 'Node' }));
    fake.createEvent(coreEvent({ namespace: 'sel', name: 'n', type: 'Normal', kind: 'Pod' }));
    const warn = await rawGet(fake, '/api/v1/namespaces/sel/events?fieldSelector=type%3DWarning');
    assert.deepEqual((warn.body['items'] as KubeObject[]).map((i) => (i['metadata'] as { name: string }).name), ['w']);
    const kind = await rawGet(fake, '/api/v1/events?fieldSelector=involvedObject.kind%3DPod,metadata.namespace%3Dsel');
    assert.deepEqual((kind.body['items'] as KubeObject[]).map((i) => (i['metadata'] as { name: string }).name), ['n']);
    const bad = await rawGet(fake, '/api/v1/events?fieldSelector=message%3Dx');
    assert.equal(bad.status, 400);
  });

  it('serves the same Event through events.k8s.io/v1 with note and regarding', async () => {
    fake.createEvent(coreEvent({ namespace: 'conv', name: 'c', message: 'hello' }));
    fake.createEvent(newEvent({ namespace: 'conv', name: 'n', message: 'new' }));
    const list = await rawGet(fake, '/apis/events.k8s.io/v1/namespaces/conv/events');
    const items = list.body['items'] as KubeObject[];
    assert.equal(list.body['apiVersion'], 'events.k8s.io/v1');
    assert.equal(items[0]!['note'], 'hello');
    assert.equal((items[0]!['regarding'] as { kind: string }).kind, 'Pod');
    const core = await rawGet(fake, '/api/v1/namespaces/conv/events');
    assert.equal((core.body['items'] as KubeObject[])[1]!['message'], 'new');
  });

  it('streams a watch from a resourceVersion to the real client-node Watch, with bookmarks', async () => {
    const from = fake.resourceVersion;
    const created = fake.createEvent(coreEvent({ namespace: 'watch', name: 'a' }));
    const done = watchUntilDone(fake, '/api/v1/namespaces/watch/events', { resourceVersion: String(from), allowWatchBookmarks: true, timeoutSeconds: 1 });
    await until(() => fake.openWatches > 0, 'a watch open', 2_000);
    fake.bumpCount('watch/a', '2026-11-26T10:00:05Z');
    fake.sendBookmark();
    fake.deleteEvent('watch/a');
    const { seen, err } = await done;
    assert.equal(err, null);
    assert.deepEqual(seen.map((s) => s.type), ['ADDED', 'MODIFIED', 'BOOKMARK', 'DELETED']);
    assert.equal((seen[0]!.object['metadata'] as { resourceVersion: string }).resourceVersion, (created['metadata'] as { resourceVersion: string }).resourceVersion);
    assert.equal(seen[1]!.object['count'], 2);
  });

  it('answers a watch from a compacted resourceVersion with 200 and an in-stream 410', async () => {
    const old = fake.resourceVersion;
    fake.createEvent(coreEvent({ namespace: 'gone', name: 'g' }));
    fake.compact();
    const { seen } = await watchUntilDone(fake, '/api/v1/events', { resourceVersion: String(old) });
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.type, 'ERROR');
    assert.equal(seen[0]!.object['code'], 410);
    assert.equal(seen[0]!.object['reason'], 'Expired');
  });

  it('injects each scripted fault once', async () => {
    const rv = String(fake.resourceVersion);
    fake.injectFault('watch', { kind: 'status', code: 500 });
    const e500 = await watchUntilDone(fake, '/api/v1/events', { resourceVersion: rv });
    assert.equal((e500.err as { statusCode?: number }).statusCode, 500);

    fake.injectFault('watch', { kind: 'gone' });
    const gone = await watchUntilDone(fake, '/api/v1/events', { resourceVersion: rv });
    assert.equal((gone.err as { statusCode?: number }).statusCode, 410);

    fake.injectFault('watch', { kind: 'empty-200' });
    const empty = await watchUntilDone(fake, '/api/v1/events', { resourceVersion: rv });
    assert.equal(empty.err, null);
    assert.equal(empty.seen.length, 0);

    fake.injectFault('watch', { kind: 'stall' });
    const stalled = await watchUntilDone(fake, '/api/v1/events', { resourceVersion: rv }, 100);
    assert.equal((stalled.err as Error).name, 'TimeoutError');

    fake.injectFault('watch', { kind: 'drop', afterEvents: 1 });
    const dropped = watchUntilDone(fake, '/api/v1/events', { resourceVersion: rv });
    await until(() => fake.openWatches > 0, 'a watch open', 2_000);
    fake.createEvent(coreEvent({ namespace: 'drop', name: 'd1' }));
    fake.createEvent(coreEvent({ namespace: 'drop', name: 'd2' }));
    const d = await dropped;
    assert.deepEqual(d.seen.map((s) => s.type), ['ADDED']);

    fake.injectFault('list', { kind: 'status', code: 403 });
    const forbidden = await rawGet(fake, '/api/v1/events');
    assert.equal(forbidden.status, 403);
    assert.match(String(forbidden.body['message']), /cannot list resource "events"/);
    assert.equal((await rawGet(fake, '/api/v1/events?limit=1')).status, 200, 'the fault is used up');
  });

  it('rejects a wrong token with 401 and answers 404 for a disabled API group', async () => {
    const res = await fetch(`${fake.url}/api/v1/events`);
    assert.equal(res.status, 401);
    await res.body?.cancel();
    const other = await FakeKubeApiServer.start();
    try {
      other.disableApi('events.k8s.io/v1');
      assert.equal((await rawGet(other, '/apis/events.k8s.io/v1/events')).status, 404);
    } finally {
      await other.close();
    }
  });

  it('serves configmaps with optimistic concurrency to the typed client', async () => {
    const api = fake.kubeConfig().makeApiClient(CoreV1Api);
    await assert.rejects(
      () => api.readNamespacedConfigMap({ name: 'cp', namespace: 'kes' }),
      (err: unknown) => err instanceof ApiException && err.code === 404,
    );
    const created = await api.createNamespacedConfigMap({ namespace: 'kes', body: { metadata: { name: 'cp' }, data: { a: '1' } } });
    const stale = created.metadata?.resourceVersion;
    const replaced = await api.replaceNamespacedConfigMap({ name: 'cp', namespace: 'kes', body: { ...created, data: { a: '2' } } });
    assert.notEqual(replaced.metadata?.resourceVersion, stale);
    await assert.rejects(
      () => api.replaceNamespacedConfigMap({ name: 'cp', namespace: 'kes', body: { ...created, data: { a: '3' } } }),
      (err: unknown) => err instanceof ApiException && err.code === 409,
    );
    await assert.rejects(
      () => api.createNamespacedConfigMap({ namespace: 'kes', body: { metadata: { name: 'cp' } } }),
      (err: unknown) => err instanceof ApiException && err.code === 409,
    );
    assert.deepEqual(fake.getObject('configmaps', 'kes', 'cp')?.['data'], { a: '2' });
  });

  it('serves leases (create, patch, replace) and self subject access reviews', async () => {
    const kc = fake.kubeConfig();
    const leases = kc.makeApiClient(CoordinationV1Api);
    const lease = await leases.createNamespacedLease({ namespace: 'kes', body: { metadata: { name: 'leader' }, spec: { holderIdentity: 'a', leaseDurationSeconds: 15 } } });
    assert.equal(lease.spec?.holderIdentity, 'a');
    const patched = await leases.patchNamespacedLease({ name: 'leader', namespace: 'kes', body: [{ op: 'replace', path: '/spec/holderIdentity', value: 'b' }] });
    assert.equal(patched.spec?.holderIdentity, 'b');
    await assert.rejects(
      () => leases.replaceNamespacedLease({ name: 'leader', namespace: 'kes', body: lease }),
      (err: unknown) => err instanceof ApiException && err.code === 409,
    );
    await assert.rejects(
      () => leases.readNamespacedLease({ name: 'missing', namespace: 'kes' }),
      (err: unknown) => err instanceof ApiException && err.code === 404,
    );

    fake.deny({ verb: 'update', resource: 'configmaps' });
    const authz = kc.makeApiClient(AuthorizationV1Api);
    const ask = (verb: string) =>
      authz.createSelfSubjectAccessReview({ body: { spec: { resourceAttributes: { verb, resource: 'configmaps', namespace: 'kes' } } } });
    assert.equal((await ask('get')).status?.allowed, true);
    assert.equal((await ask('update')).status?.allowed, false);
  });
});
