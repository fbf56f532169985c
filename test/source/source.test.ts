import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import pino from 'pino';
import { ignoreProgress } from '../../src/core/progress.js';
import { createMetrics } from '../../src/observe/metrics.js';
import { createEventSource } from '../../src/source/index.js';
import { FakeKubeApiServer } from '../fakes/kube-api-server.js';
import { coreEvent, newEvent } from '../fakes/kube-events.js';
import { fastClock } from '../support/manual-clock.js';
import { capturingLogger } from '../support/logger.js';
import { metricValue } from '../support/metrics.js';
import { until } from '../support/wait.js';
import { startSource, TEST_SOURCE_OPTIONS } from './harness.js';
import type { RunningSource } from './harness.js';

const NOW = () => new Date().toISOString();

describe('the Kubernetes source', () => {
  let fake: FakeKubeApiServer;
  let running: RunningSource | undefined;
  beforeEach(async () => {
    fake = await FakeKubeApiServer.start();
  });
  afterEach(async () => {
    await running?.stop();
    running = undefined;
    await fake.close();
  });

  it('ships nothing that existed before a first start with --initial none, then every new occurrence', async () => {
    fake.createEvent(coreEvent({ name: 'old', time: NOW() }));
    running = startSource(fake);
    await until(() => fake.openWatches === 1, 'watch open');
    fake.createEvent(coreEvent({ name: 'new', time: NOW() }));
    fake.bumpCount('default/old', NOW());
    await until(() => running!.items.length === 2, 'two items');
    assert.deepEqual(running.names(), ['ADDED new', 'MODIFIED old']);
    assert.deepEqual(running.skipped, ['old'], 'the listed event is reported as seen');
    assert.equal(await metricValue(running.metrics, 'kube_event_shipper_relists_total{reason="initial"}'), 1);
    assert.equal(await metricValue(running.metrics, 'kube_event_shipper_events_received_total{type="LISTED"}'), 1);
    assert.deepEqual(running.watchOpen, [true]);
  });

  it('hands a paged list over one page at a time (never holding more than one page)', async () => {
    for (let i = 0; i < 25; i++) fake.createEvent(coreEvent({ name: `e${String(i).padStart(2, '0')}` }));
    running = startSource(fake, { pageSize: 10, initial: { kind: 'all' } });
    await until(() => running!.items.length === 25, 'all listed');
    const lists = fake.requests.filter((r) => r.endpoint === 'list');
    assert.equal(lists.length, 3);
    assert.ok(lists.every((r) => r.query.get('limit') === '10'));
    // Item i arrives while exactly floor(i/10)+1 pages have been fetched: no page is fetched ahead.
    running.items.forEach((r, i) => assert.equal(r.listsServed, Math.floor(i / 10) + 1, `item ${i}`));
    assert.ok(running.items.every((r) => r.item.type === 'LISTED' && r.item.object['kind'] === 'Event' && r.item.object['apiVersion'] === 'v1'));
  });

  it('ships only events younger than --initial <age> on a first start', async () => {
    fake.createEvent(coreEvent({ name: 'ancient', time: '2020-01-01T00:00:00Z' }));
    fake.createEvent(coreEvent({ name: 'recent', time: NOW() }));
    running = startSource(fake, { initial: { kind: 'maxAge', maxAgeMs: 3_600_000 } });
    await until(() => fake.openWatches === 1, 'watch open');
    assert.deepEqual(running.names(), ['LISTED recent']);
    assert.deepEqual(running.skipped, ['ancient']);
  });

  it('re-watches from the last resourceVersion after a connection drop mid-stream, losing and repeating nothing', async () => {
    running = startSource(fake);
    await until(() => fake.openWatches === 1, 'watch open');
    fake.injectFault('watch', { kind: 'drop', afterEvents: 0 }); // the re-watch is dropped at once too
    fake.endWatches();
    await until(() => fake.count('watch') >= 2, 'second watch');
    await until(() => fake.openWatches === 1, 'third watch open');
    fake.createEvent(coreEvent({ name: 'a' }));
    fake.createEvent(coreEvent({ name: 'b' }));
    await until(() => running!.items.length === 2, 'a and b');
    const watch = fake.requests.filter((r) => r.endpoint === 'watch');
    const lastRv = watch[watch.length - 1]!.query.get('resourceVersion');
    assert.equal(lastRv, watch[0]!.query.get('resourceVersion'), 'every re-watch resumes from the listed resourceVersion');
    assert.equal(watch[0]!.query.get('allowWatchBookmarks'), 'true');
    assert.deepEqual(running.names(), ['ADDED a', 'ADDED b']);
    assert.equal(await metricValue(running.metrics, 'kube_event_shipper_relists_total{reason="gone"}'), 0);
  });

  it('follows bookmarks and resumes from the bookmarked resourceVersion', async () => {
    running = startSource(fake);
    await until(() => fake.openWatches === 1, 'watch open');
    fake.createEvent(coreEvent({ namespace: 'x', name: 'moves-rv' }));
    await until(() => running!.items.length === 1, 'item');
    fake.putObject('configmaps', { metadata: { namespace: 'x', name: 'bump' } }); // revision moves without events
    fake.sendBookmark();
    await until(() => running!.positions.some((p) => p.resourceVersion === String(fake.resourceVersion)), 'bookmark position');
    fake.endWatches();
    await until(() => fake.count('watch') === 2, 're-watch');
    assert.equal(fake.requests.filter((r) => r.endpoint === 'watch')[1]!.query.get('resourceVersion'), String(fake.resourceVersion));
    assert.equal(await metricValue(running.metrics, 'kube_event_shipper_events_received_total{type="BOOKMARK"}'), 1);
  });

  for (const form of ['gone-in-stream', 'gone'] as const) {
    it(`relists after a 410 (${form === 'gone' ? 'HTTP status' : 'in-stream ERROR'}) and ships only what changed since`, async () => {
      fake.createEvent(coreEvent({ name: 'before', time: NOW() }));
      running = startSource(fake);
      await until(() => fake.openWatches === 1, 'watch open');
      fake.createEvent(coreEvent({ name: 'seen', time: NOW() }));
      await until(() => running!.items.length === 1, 'seen');
      // The watch breaks; while it is down an event is created and another bumped.
      fake.injectFault('watch', { kind: form });
      fake.endWatches();
      fake.createEvent(coreEvent({ name: 'missed', time: NOW() }));
      fake.bumpCount('default/before', NOW());
      await until(() => running!.items.length === 3, 'relisted');
      assert.deepEqual(running.names(), ['ADDED seen', 'LISTED before', 'LISTED missed']);
      assert.deepEqual(running.skipped, ['before'], 'only the first list reports a skip; the relist skips "seen" as unchanged');
      assert.equal(await metricValue(running.metrics, 'kube_event_shipper_relists_total{reason="gone"}'), 1);
    });
  }

  it('dates a list at its start, not its end: a slow list followed by a 410 still ships what happened during the list', async () => {
    for (let i = 0; i < 20; i++) fake.createEvent(coreEvent({ name: `e${String(i).padStart(2, '0')}`, time: NOW() }));
    fake.injectFault('watch', { kind: 'gone-in-stream' });
    // Each item takes 20 ms to hand over, so the list takes ~400 ms, far more than the 50 ms margin.
    running = startSource(fake, { initial: { kind: 'all' }, relistMarginMs: 50 }, {}, 20);
    await until(() => running!.items.length >= 1, 'the list is being handed over');
    fake.createEvent(coreEvent({ name: 'during-list', time: NOW() }));
    await until(() => fake.count('list') === 2 && fake.openWatches === 1, 'relist after the 410');
    await until(() => running!.items.length === 21, 'everything handed over');
    assert.deepEqual(running.names().slice(19), ['LISTED e19', 'LISTED during-list']);
  });

  it('dates the end of a watch when the server ended it, not when a slow consumer caught up: a later relist ships what happened meanwhile', async () => {
    running = startSource(fake, { relistMarginMs: 50 }, {}, 20);
    await until(() => fake.openWatches === 1, 'watch open');
    for (let i = 0; i < 20; i++) fake.createEvent(coreEvent({ name: `b${String(i).padStart(2, '0')}`, time: NOW() }));
    fake.endWatches(); // the server closes; handing the 20 over still takes ~400 ms
    fake.createEvent(coreEvent({ name: 'during-drain', time: NOW() }));
    fake.compact(); // so the re-watch gets a 410 and relists
    await until(() => fake.count('list') === 2 && fake.openWatches === 1, 'relist after the 410');
    await until(() => running!.items.length === 21, 'everything handed over');
    assert.deepEqual(running.names().slice(19), ['ADDED b19', 'LISTED during-drain']);
  });

  it('backs off when the watch is gone again right after every relist, instead of looping hot', async () => {
    fake.injectFault('watch', { kind: 'gone-in-stream' }, 3);
    running = startSource(fake);
    await until(() => fake.openWatches === 1, 'watch open at last');
    assert.equal(await metricValue(running.metrics, 'kube_event_shipper_relists_total{reason="gone"}'), 3);
    assert.equal(running.clock.sleeps.length, 2, 'the second and third 410 in a row wait first');
  });

  it('backs off a list that answers 410 itself, instead of listing again at once', async () => {
    fake.injectFault('list', { kind: 'gone' }, 3);
    running = startSource(fake);
    await until(() => fake.openWatches === 1, 'watch open at last');
    assert.equal(fake.count('list'), 4);
    assert.equal(await metricValue(running.metrics, 'kube_event_shipper_relists_total{reason="gone"}'), 3);
    assert.equal(running.clock.sleeps.length, 3, 'each 410 to a list waits first');
  });

  it('backs off when continue tokens expire again and again, after relisting at once the first time', async () => {
    for (let i = 0; i < 6; i++) fake.createEvent(coreEvent({ name: `p${i}` }));
    fake.injectFault('list', { kind: 'expired-continue' }, 3);
    running = startSource(fake, { pageSize: 4, initial: { kind: 'all' } });
    await until(() => fake.openWatches === 1, 'watch open');
    assert.equal(await metricValue(running.metrics, 'kube_event_shipper_relists_total{reason="continue_expired"}'), 3);
    assert.deepEqual(running.clock.sleeps, [1_000, 2_000]);
  });

  it('relists with a fresh start when a continue token expires', async () => {
    for (let i = 0; i < 6; i++) fake.createEvent(coreEvent({ name: `p${i}` }));
    fake.injectFault('list', { kind: 'expired-continue' });
    running = startSource(fake, { pageSize: 4, initial: { kind: 'all' } });
    await until(() => fake.openWatches === 1, 'watch open');
    assert.equal(await metricValue(running.metrics, 'kube_event_shipper_relists_total{reason="continue_expired"}'), 1);
    const lists = fake.requests.filter((r) => r.endpoint === 'list');
    assert.equal(lists.length, 4);
    assert.equal(lists[2]!.query.get('continue'), null, 'the list starts over');
    assert.deepEqual(new Set(running.names()), new Set(['LISTED p0', 'LISTED p1', 'LISTED p2', 'LISTED p3', 'LISTED p4', 'LISTED p5']));
  });

  it('detects a stalled watch that trickles bytes but no events, and recovers', async () => {
    fake.injectFault('watch', { kind: 'stall', trickle: true, trickleMs: 20 });
    // The stall timeout is 50 trickle periods, so a loaded machine that delays a few trickles does
    // not turn the stall into client-node's plain inactivity timeout.
    running = startSource(fake, { stallTimeoutMs: 1_000 });
    await until(() => fake.count('watch') === 2 && fake.openWatches === 1, 'second watch', 10_000);
    fake.createEvent(coreEvent({ name: 'after-stall' }));
    await until(() => running!.items.length === 1, 'item after stall');
    assert.equal(await metricValue(running.metrics, 'kube_event_shipper_watch_restarts_total{reason="stall"}'), 1);
  });

  it('backs off on consecutive stalls like on errors, instead of re-watching at once each time', async () => {
    fake.injectFault('watch', { kind: 'stall', trickle: true, trickleMs: 20 }, 2);
    // 25 trickle periods: a loaded machine delaying a few trickles still sees a stall, not silence.
    running = startSource(fake, { stallTimeoutMs: 500 });
    await until(() => fake.count('watch') === 3 && fake.openWatches === 1, 'third watch', 10_000);
    assert.equal(await metricValue(running.metrics, 'kube_event_shipper_watch_restarts_total{reason="stall"}'), 2);
    // The default backoff (800 ms, doubling, +50 % jitter at random() = 0.5).
    assert.deepEqual(running.clock.sleeps, [1_000, 2_000]);
  });

  it('never arms the stall watchdog or the inactivity timer with 0, so a zero stall timeout cannot make a hot watch loop', async () => {
    running = startSource(fake, { requestTimeoutMs: 0, stallTimeoutMs: 0 });
    await until(() => fake.openWatches === 1, 'watch open');
    await new Promise((r) => setTimeout(r, 1_000));
    // With the timers at their 100 ms floor a silent watch ends at most ten times a second; armed
    // with 0 it re-watched hundreds of times. A slow machine only lowers the count.
    const watches = fake.count('watch');
    assert.ok(watches <= 15, `${watches} watch requests in one second`);
    assert.equal(await metricValue(running.metrics, 'kube_event_shipper_watch_restarts_total{reason="stall"}'), 0);
  });

  it('treats client-node\'s inactivity timeout on a silent watch as a normal re-watch', async () => {
    running = startSource(fake, { requestTimeoutMs: 100, stallTimeoutMs: 10_000 });
    await until(() => fake.count('watch') >= 3, 'three watches');
    assert.ok((await metricValue(running.metrics, 'kube_event_shipper_watch_restarts_total{reason="timeout"}')) >= 2);
    assert.equal(await metricValue(running.metrics, 'kube_event_shipper_watch_restarts_total{reason="stall"}'), 0);
    assert.equal(fake.count('list'), 1, 'no relist for a normal re-watch');
    assert.equal(await metricValue(running.metrics, 'kube_event_shipper_watch_restarts_total{reason="short_watch"}'), 0);
    assert.deepEqual(running.clock.sleeps, [], 'no backoff for a normal re-watch');
    assert.ok(running.activity() >= 3, 'each re-opened watch counts as progress for the health check');
  });

  it('counts a silent watch as a normal timeout, not a stall, even with a stall timeout below 30 s', async () => {
    running = startSource(fake, { requestTimeoutMs: 30_000, stallTimeoutMs: 100 });
    await until(() => fake.count('watch') >= 3, 'three watches');
    assert.ok((await metricValue(running.metrics, 'kube_event_shipper_watch_restarts_total{reason="timeout"}')) >= 2);
    assert.equal(await metricValue(running.metrics, 'kube_event_shipper_watch_restarts_total{reason="stall"}'), 0);
  });

  it('does not call a quiet watch stalled while a slow consumer is still handing over what it read', async () => {
    // Silence ends the watch after 100 ms; the stall watchdog would fire at 200 ms; handing the
    // burst over takes ~500 ms. The watch ended normally: a timeout, and nothing read is thrown away.
    running = startSource(fake, { requestTimeoutMs: 100, stallTimeoutMs: 100 }, {}, 50);
    await until(() => fake.openWatches === 1, 'watch open');
    for (let i = 0; i < 10; i++) fake.createEvent(coreEvent({ name: `q${i}` }));
    await until(() => running!.items.length === 10, 'all handed over');
    await until(() => fake.count('watch') >= 2, 're-watch');
    assert.equal(await metricValue(running.metrics, 'kube_event_shipper_watch_restarts_total{reason="stall"}'), 0);
    assert.ok((await metricValue(running.metrics, 'kube_event_shipper_watch_restarts_total{reason="timeout"}')) >= 1);
    assert.equal(fake.requests.filter((r) => r.endpoint === 'watch')[1]!.query.get('resourceVersion'), String(fake.resourceVersion), 'resumed after the last item');
  });

  it('cuts a watch that runs too far ahead of a slow consumer and resumes it, losing and repeating nothing', async () => {
    running = startSource(fake, { maxQueuedEvents: 10 }, {}, 1);
    await until(() => fake.openWatches === 1, 'watch open');
    assert.equal(await metricValue(running.metrics, 'kube_event_shipper_watch_restarts_total{reason="backpressure"}'), 0, 'exported before the first cut');
    for (let i = 0; i < 100; i++) fake.createEvent(coreEvent({ name: `burst-${String(i).padStart(3, '0')}` }));
    await until(() => running!.items.length >= 100, 'all handed over');
    await until(() => fake.openWatches === 1, 'watching again');
    assert.deepEqual(running.names(), Array.from({ length: 100 }, (_, i) => `ADDED burst-${String(i).padStart(3, '0')}`));
    assert.ok(fake.count('watch') > 1, 'the watch was resumed');
    // Every resume is counted as backpressure (polled: the last cut may still be on its way).
    const backpressure = () => metricValue(running!.metrics, 'kube_event_shipper_watch_restarts_total{reason="backpressure"}');
    for (let i = 0; i < 200 && (await backpressure()) !== fake.count('watch') - 1; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(await backpressure(), fake.count('watch') - 1);
    assert.equal(await metricValue(running.metrics, 'kube_event_shipper_watch_restarts_total{reason="error"}'), 0);
  });

  it('bounds the watch read-ahead in bytes too: large messages behind a slow consumer cut the watch long before the event limit, losing and repeating nothing', async () => {
    running = startSource(fake, { maxQueuedBytes: 100_000 }, {}, 5);
    await until(() => fake.openWatches === 1, 'watch open');
    const big = 'x'.repeat(40_000);
    for (let i = 0; i < 20; i++) fake.createEvent(coreEvent({ name: `big-${String(i).padStart(2, '0')}`, message: big }));
    await until(() => running!.items.length >= 20, 'all handed over');
    assert.deepEqual(running.names(), Array.from({ length: 20 }, (_, i) => `ADDED big-${String(i).padStart(2, '0')}`));
    assert.ok(fake.count('watch') > 1, 'the watch was cut while 20 events are far below the 5 000-event limit');
    assert.ok((await metricValue(running.metrics, 'kube_event_shipper_watch_restarts_total{reason="backpressure"}')) >= 1);
  });

  it('asks for fewer items per list page while pages come larger than the page byte budget, and lists everything', async () => {
    const big = 'y'.repeat(20_000);
    for (let i = 0; i < 60; i++) fake.createEvent(coreEvent({ name: `p${String(i).padStart(2, '0')}`, message: big }));
    running = startSource(fake, { pageSize: 25, maxPageBytes: 100_000, initial: { kind: 'all' } });
    await until(() => running!.items.length === 60, 'all listed');
    const limits = fake.requests.filter((r) => r.endpoint === 'list').map((r) => Number(r.query.get('limit')));
    assert.equal(limits[0], 25);
    assert.ok(limits.slice(1).every((l) => l <= 5), `later pages ask for at most 5 items: ${limits.join(',')}`);
    assert.deepEqual(running.names(), Array.from({ length: 60 }, (_, i) => `LISTED p${String(i).padStart(2, '0')}`));
  });

  it('after a consumer paused far longer than every watch timer (backpressure), resumes at once: no stall counted, a relist for what the compacted watch cannot give, and a dead connection still detected afterwards', async () => {
    let release: (() => void) | undefined;
    const paused = new Promise<void>((r) => (release = r));
    let pausing = false;
    running = startSource(fake, { requestTimeoutMs: 1_000, stallTimeoutMs: 1_000, relistMarginMs: 50 }, {}, () => (pausing ? paused : Promise.resolve()));
    await until(() => fake.openWatches === 1, 'watch open');
    pausing = true;
    fake.createEvent(coreEvent({ name: 'first', time: NOW() }));
    fake.createEvent(coreEvent({ name: 'second', time: NOW() }));
    await until(() => running!.items.length === 1, 'the consumer holds the first item');
    // Paused three times the stall timeout: the silent watch ends on its own meanwhile; what
    // happens next is compacted away before the consumer comes back.
    await until(() => fake.openWatches === 0, 'the idle watch ended while paused');
    await new Promise((r) => setTimeout(r, 2_000));
    fake.createEvent(coreEvent({ name: 'during-pause', time: NOW() }));
    fake.compact();
    assert.equal(fake.count('watch'), 1, 'no re-watch while the consumer is paused');
    pausing = false;
    release!();
    await until(() => running!.items.length === 3 && fake.openWatches === 1, 'resumed');
    assert.deepEqual(running.names(), ['ADDED first', 'ADDED second', 'LISTED during-pause']);
    assert.equal(await metricValue(running.metrics, 'kube_event_shipper_watch_restarts_total{reason="stall"}'), 0, 'a pause is no stall');
    assert.equal(await metricValue(running.metrics, 'kube_event_shipper_relists_total{reason="gone"}'), 1);
    // The watchdog is armed again on the new watch: a connection that only trickles is caught.
    fake.injectFault('watch', { kind: 'stall', trickle: true, trickleMs: 20 });
    fake.endWatches();
    await until(() => fake.openWatches === 1 && fake.pendingFaults === 0, 'watching again', 10_000);
    fake.createEvent(coreEvent({ name: 'after', time: NOW() }));
    await until(() => running!.items.length === 4, 'the event after the stall');
    assert.equal(await metricValue(running.metrics, 'kube_event_shipper_watch_restarts_total{reason="stall"}'), 1);
  });

  it('treats a watch that times out before the server answers as an error, not as contact, so a later relist still ships what happened meanwhile', async () => {
    running = startSource(fake, { requestTimeoutMs: 100, stallTimeoutMs: 10_000, relistMarginMs: 50 });
    await until(() => fake.openWatches === 1, 'watch open');
    fake.injectFault('watch', { kind: 'hang' }, 4);
    fake.endWatches();
    // While the API server hangs, an event happens and its history is compacted away.
    fake.createEvent(coreEvent({ name: 'during-hang', time: NOW() }));
    fake.compact();
    await until(() => fake.count('list') === 2 && fake.openWatches === 1, 'relist after the hang');
    assert.deepEqual(running.names(), ['LISTED during-hang']);
    assert.equal(await metricValue(running.metrics, 'kube_event_shipper_watch_restarts_total{reason="timeout"}'), 0);
    assert.equal(await metricValue(running.metrics, 'kube_event_shipper_watch_restarts_total{reason="error"}'), 4);
    assert.equal(running.clock.sleeps.length, 5, 'the short watch and each hang back off');
  });

  it('backs off watches that end at once (empty 200) and watches again from the same position, never busy-looping and never relisting', async () => {
    fake.injectFault('watch', { kind: 'empty-200' }, 4);
    running = startSource(fake, { shortWatchLimit: 3 });
    await until(() => fake.count('watch') === 5 && fake.openWatches === 1, 'fifth watch open');
    assert.equal(fake.count('list'), 1, 'no relist: a list would hold only the newest state of each event');
    assert.equal(await metricValue(running.metrics, 'kube_event_shipper_watch_restarts_total{reason="short_watch"}'), 4);
    assert.equal(running.clock.sleeps.length, 4);
    assert.ok(running.clock.sleeps[1]! > running.clock.sleeps[0]!, 'the delay grows');
    // What happened meanwhile still arrives through the watch, every occurrence of it.
    fake.createEvent(coreEvent({ name: 'after-empty', time: NOW() }));
    await until(() => running!.items.length === 1, 'the event after the empty answers');
  });

  it('retries 500s with growing, jittered delays', async () => {
    fake.injectFault('watch', { kind: 'status', code: 500 }, 3);
    running = startSource(fake);
    await until(() => fake.count('watch') === 4 && fake.openWatches === 1, 'fourth watch');
    // initial 800 ms, doubling, +50 % jitter at random()=0.5 → ×1.25
    assert.deepEqual(running.clock.sleeps, [1000, 2000, 4000]);
    assert.equal(await metricValue(running.metrics, 'kube_event_shipper_watch_restarts_total{reason="error"}'), 3);
  });

  it('retries a list that is dropped, answers 500 or stalls, then completes it', async () => {
    for (let i = 0; i < 3; i++) fake.createEvent(coreEvent({ name: `l${i}` }));
    fake.injectFault('list', { kind: 'drop' });
    fake.injectFault('list', { kind: 'status', code: 500 });
    fake.injectFault('list', { kind: 'stall' });
    running = startSource(fake, { initial: { kind: 'all' }, listTimeoutMs: 200 });
    await until(() => fake.openWatches === 1, 'watch open');
    assert.equal(fake.count('list'), 4);
    assert.equal(running.clock.sleeps.length, 3, 'each failure backs off');
    assert.deepEqual(running.names(), ['LISTED l0', 'LISTED l1', 'LISTED l2']);
    assert.equal(await metricValue(running.metrics, 'kube_event_shipper_relists_total{reason="error"}'), 3);
  });

  it('logs a 403 with the missing permission and retries slowly until it is granted', async () => {
    fake.injectFault('list', { kind: 'status', code: 403 }, 2);
    const { logger, records } = capturingLogger();
    running = startSource(fake, { authRetryMs: 12_345 }, {}, 0, logger);
    await until(() => fake.openWatches === 1, 'watch open after permission granted');
    assert.deepEqual(running.clock.sleeps, [12_345, 12_345]);
    const denied = records.filter((r) => r['msg'] === 'missing permission to read events');
    assert.equal(denied.length, 2);
    assert.equal(denied[0]!['needs'], 'list and watch on events (apiGroup "") cluster-wide');
    assert.match(String(denied[0]!['serverMessage']), /cannot list resource "events"/);
    assert.equal(denied[0]!['level'], 50);
  });

  it('logs a 400 to a list (an unknown field selector) as a configuration error with the server\'s reason and a hint, and retries slowly', async () => {
    const { logger, records } = capturingLogger();
    running = startSource(fake, { fieldSelector: 'involvedObject.colour=red', authRetryMs: 12_345 }, {}, 0, logger);
    await until(() => fake.count('list') >= 3, 'three lists');
    const stopped = running;
    await stopped.stop();
    running = undefined;
    const lists = fake.count('list');
    assert.equal(fake.count('watch'), 0, 'no list succeeded');
    assert.ok(stopped.clock.sleeps.length >= lists - 1);
    assert.ok(stopped.clock.sleeps.every((ms) => ms === 12_345), 'at the auth-retry pace');
    const refused = records.filter((r) => r['msg'] === 'API server refused the request as invalid; check the configuration');
    assert.ok(refused.length >= 2 && refused.length >= lists - 1, 'once per occurrence');
    assert.equal(refused[0]!['level'], 50);
    assert.equal(refused[0]!['status'], 400);
    assert.equal(refused[0]!['during'], 'list');
    assert.equal(refused[0]!['fieldSelector'], 'involvedObject.colour=red');
    assert.match(String(refused[0]!['serverMessage']), /"involvedObject\.colour" is not a known field selector/);
    assert.match(String(refused[0]!['hint']), /check --field-selector/);
    assert.equal(records.filter((r) => r['msg'] === 'API server request failed; retrying').length, 0, 'not the error backoff with warnings');
  });

  it('logs a 400 to a watch as a configuration error and retries it at the auth-retry pace', async () => {
    fake.injectFault('watch', { kind: 'status', code: 400 }, 2);
    const { logger, records } = capturingLogger();
    running = startSource(fake, { authRetryMs: 12_345 }, {}, 0, logger);
    await until(() => fake.count('watch') === 3 && fake.openWatches === 1, 'watch open after two refusals');
    assert.deepEqual(running.clock.sleeps, [12_345, 12_345]);
    const refused = records.filter((r) => r['msg'] === 'API server refused the request as invalid; check the configuration');
    assert.equal(refused.length, 2);
    assert.equal(refused[0]!['level'], 50);
    assert.equal(refused[0]!['during'], 'watch');
    assert.match(String(refused[0]!['hint']), /check/);
    assert.match(String(refused[0]!['serverMessage']), /injected 400/, 'the reason read from the refused watch\'s Status');
  });

  it('falls back to core/v1 when events.k8s.io/v1 is not served', async () => {
    fake.disableApi('events.k8s.io/v1');
    running = startSource(fake, { api: 'events.k8s.io/v1' });
    await until(() => fake.openWatches === 1, 'watch open');
    fake.createEvent(newEvent({ name: 'n' }));
    await until(() => running!.items.length === 1, 'item');
    assert.equal(running.items[0]!.item.object['apiVersion'], 'v1');
    assert.ok(fake.requests.some((r) => r.api === 'events.k8s.io/v1'));
    assert.equal(fake.requests[fake.requests.length - 1]!.api, 'core/v1');
  });

  it('watches each included namespace on its own and sends the field selector to the server', async () => {
    running = startSource(fake, { namespaces: ['a', 'b'], fieldSelector: 'type=Warning' });
    await until(() => fake.openWatches === 2, 'two watches');
    fake.createEvent(coreEvent({ namespace: 'a', name: 'wa', type: 'Warning' }));
    fake.createEvent(coreEvent({ namespace: 'b', name: 'nb', type: 'Normal' }));
    fake.createEvent(coreEvent({ namespace: 'c', name: 'wc', type: 'Warning' }));
    fake.createEvent(coreEvent({ namespace: 'b', name: 'wb', type: 'Warning' }));
    await until(() => running!.items.length === 2, 'two items');
    assert.deepEqual(running.items.map((r) => `${r.stream} ${String((r.item.object['metadata'] as { name: string }).name)}`).sort(), ['a wa', 'b wb']);
    assert.ok(fake.requests.filter((r) => r.endpoint === 'watch').every((r) => r.path.includes('/namespaces/')));
  });

  it('leaves excluded namespaces out with a server-side field selector', async () => {
    running = startSource(fake, { excludeNamespaces: ['kube-system'] });
    await until(() => fake.openWatches === 1, 'watch open');
    fake.createEvent(coreEvent({ namespace: 'kube-system', name: 'sys' }));
    fake.createEvent(coreEvent({ namespace: 'apps', name: 'app' }));
    await until(() => running!.items.length === 1, 'item');
    assert.deepEqual(running.names(), ['ADDED app']);
    assert.equal(fake.requests[0]!.query.get('fieldSelector'), 'metadata.namespace!=kube-system');
  });

  // The test's timeout is the bound: before the fix the watch opened anyway and run() waited for it to end.
  it('stops without opening a watch when the stop signal comes as a list ends', { timeout: 3_000 }, async () => {
    const controller = new AbortController();
    const source = createEventSource(TEST_SOURCE_OPTIONS, {
      kubeConfig: fake.kubeConfig(),
      handler: { onItem: () => Promise.resolve(), onPosition: () => controller.abort() },
      metrics: createMetrics({ version: 'test' }),
      logger: pino({ level: 'silent' }),
      clock: fastClock(),
      random: () => 0.5,
      progress: ignoreProgress,
    });
    await source.run({}, controller.signal);
    assert.equal(fake.count('list'), 1);
    assert.equal(fake.count('watch'), 0);
  });

  it('resumes from a checkpointed resourceVersion without listing', async () => {
    fake.createEvent(coreEvent({ name: 'old' }));
    const rv = String(fake.resourceVersion);
    fake.createEvent(coreEvent({ name: 'while-down' }));
    running = startSource(fake, {}, { '*': { resourceVersion: rv, sinceMs: Date.now() } });
    await until(() => running!.items.length === 1, 'item');
    assert.deepEqual(running.names(), ['ADDED while-down']);
    assert.equal(fake.count('list'), 0);
  });

  it('falls back to the time look-back when the position is not an integer resourceVersion, and counts and logs what it leaves out', async () => {
    fake.createEvent(coreEvent({ name: 'long-ago', time: new Date(Date.now() - 2 * 3_600_000).toISOString() }));
    fake.createEvent(coreEvent({ name: 'lately', time: NOW() }));
    fake.injectFault('watch', { kind: 'gone' });
    const { logger, records } = capturingLogger();
    // An opaque position cannot be compared with the listed resourceVersions: only time can decide.
    running = startSource(fake, { relistMarginMs: 60_000 }, { '*': { resourceVersion: 'opaque-token', sinceMs: Date.now() } }, 0, logger);
    await until(() => fake.count('list') === 1 && fake.openWatches === 1, 'relisted and watching');
    assert.deepEqual(running.names(), ['LISTED lately']);
    assert.deepEqual(running.skipped, ['long-ago'], 'its occurrence counts as seen');
    assert.equal(await metricValue(running.metrics, 'kube_event_shipper_events_skipped_total{reason="before_lookback"}'), 1);
    assert.equal(await metricValue(running.metrics, 'kube_event_shipper_events_skipped_total{reason="unchanged"}'), 0);
    const logged = records.filter((r) => r['msg'] === 'event not handed on');
    assert.deepEqual(
      logged.map((r) => [r['level'], r['reason'], r['name'], r['position']]),
      [[20, 'before_lookback', 'long-ago', 'opaque-token']],
    );
  });

  it('counts and logs watch items it cannot use (unknown types, objects that are not objects) and carries on', async () => {
    const { logger, records } = capturingLogger();
    running = startSource(fake, {}, {}, 0, logger);
    await until(() => fake.openWatches === 1, 'watch open');
    fake.sendWatchLine(JSON.stringify({ type: 'SURPRISE', object: coreEvent({ name: 'odd' }) }));
    fake.sendWatchLine(JSON.stringify({ type: 'ADDED', object: 'not an object' }));
    fake.createEvent(coreEvent({ name: 'fine' }));
    await until(() => running!.items.length === 1, 'the good event');
    assert.deepEqual(running.names(), ['ADDED fine']);
    assert.equal(await metricValue(running.metrics, 'kube_event_shipper_events_skipped_total{reason="unknown_watch_type"}'), 1);
    assert.equal(await metricValue(running.metrics, 'kube_event_shipper_events_skipped_total{reason="not_an_object"}'), 1);
    const logged = records.filter((r) => r['msg'] === 'event not handed on').map((r) => [r['reason'], r['watchType'], r['name']]);
    assert.deepEqual(logged, [['unknown_watch_type', 'SURPRISE', 'odd'], ['not_an_object', 'ADDED', undefined]]);
    assert.equal(fake.count('watch'), 1, 'the watch went on');
  });

  it('counts and logs watch lines that are not JSON objects, and carries on', async () => {
    const { logger, records } = capturingLogger();
    running = startSource(fake, {}, {}, 0, logger);
    await until(() => fake.openWatches === 1, 'watch open');
    assert.equal(await metricValue(running.metrics, 'kube_event_shipper_events_skipped_total{reason="not_json"}'), 0, 'exported before the first');
    fake.sendWatchLine('this is not JSON {');
    fake.sendWatchLine('42');
    fake.createEvent(coreEvent({ name: 'fine' }));
    await until(() => running!.items.length === 1, 'the good event');
    assert.deepEqual(running.names(), ['ADDED fine']);
    assert.equal(await metricValue(running.metrics, 'kube_event_shipper_events_skipped_total{reason="not_json"}'), 2);
    const logged = records.filter((r) => r['msg'] === 'watch line is not a JSON object; skipped');
    assert.deepEqual(logged.map((r) => [r['level'], r['excerpt'], r['bytes']]), [[40, 'this is not JSON {', 18], [40, '42', 2]]);
    assert.equal(fake.count('watch'), 1, 'the watch went on');
  });
});
