/**
 * What the sink makes of Loki's answers, at the real boundary: the real undici client against the
 * fake Loki, which enforces a stock Loki 3.2's rules and answers in its words.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { createHealthTracker } from '../../src/observe/health.js';
import { ManualClock } from '../support/manual-clock.js';
import { BASE_NS, entry, startHarness } from './harness.js';
import { readMetrics } from '../support/metrics.js';
import { until } from '../support/wait.js';
import { secretVolume } from '../support/secret-volume.js';

const MINUTE_NS = 60_000_000_000n;
const labelsA = { job: 'kube-event-shipper', namespace: 'a', reason: 'Started', type: 'Normal' };
const labelsB = { job: 'kube-event-shipper', namespace: 'b', reason: 'Started', type: 'Normal' };

describe('Loki sink: Loki\'s answers', { timeout: 60_000 }, () => {
  it('a partial 400 drops only the entries it names, counted per reason, and the rest counts as delivered', async () => {
    const h = await startHarness({ sink: { batchMaxWaitMs: 1 } });
    try {
      // Loki already holds an entry of stream a: twelve entries two hours older are too far behind.
      await h.write(entry(0, { labels: labelsA, timestampNs: BASE_NS }));
      await h.sink.flush();
      for (let i = 1; i <= 12; i++) await h.write(entry(i, { labels: labelsA, timestampNs: BASE_NS - 120n * MINUTE_NS + BigInt(i) }));
      await h.write(entry(13, { labels: labelsA, timestampNs: BASE_NS - 30n * MINUTE_NS }));
      await h.sink.flush();
      const second = h.loki.requests[1];
      assert.equal(second?.answer, 400);
      assert.match(second.replyBody, /total ignored: 12 out of 13 for stream/);
      assert.equal(second.replyBody.match(/^entry with timestamp/gm)?.length, 10, 'Loki names ten; the total says twelve');

      for (let i = 1; i <= 12; i++) assert.deepEqual(h.outcomes.get(`occ-${i}`)?.map((o) => o.kind === 'dropped' && o.reason), ['too_far_behind'], `occ-${i}`);
      assert.deepEqual(h.outcomes.get('occ-13'), [{ kind: 'delivered' }]);
      assert.equal(await h.metric('kube_event_shipper_events_dropped_total{reason="too_far_behind"}'), 12);
      assert.equal(await h.metric('kube_event_shipper_events_shipped_total'), h.loki.entries().length, 'shipped = what Loki stored');
      assert.equal(await h.metric('kube_event_shipper_events_dropped_total{reason="loki_rejected"}'), 0);
      const lines = h.logs.filter((l) => l['code'] === 'E_LOKI_REJECTED');
      assert.equal(lines.length, 1, 'one line for the batch');
      assert.deepEqual(lines[0]?.['refused'], { too_far_behind: 12 });
      assert.equal(lines[0]?.['stored'], 1);
    } finally {
      await h.close();
    }
  });

  it('a 400 of grouped validation messages drops each named entry with its reason; the others are stored', async () => {
    const h = await startHarness({ sink: { batchMaxWaitMs: 1_000 } });
    try {
      const now = BigInt(Date.now()) * 1_000_000n;
      const sixteen = Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`l${i}`, 'v']));
      const writes = [
        entry(1, { labels: labelsA, timestampNs: now - 8n * 24n * 60n * MINUTE_NS }), // too old
        entry(2, { labels: labelsA, timestampNs: now - 8n * 24n * 60n * MINUTE_NS }), // same second: "2 errors like"
        entry(3, { labels: labelsA, timestampNs: now + 60n * MINUTE_NS }), // too new
        entry(4, { labels: labelsB, timestampNs: now, line: 'x'.repeat(300_000) }), // line too long
        entry(5, { labels: sixteen, timestampNs: now }), // too many labels
        entry(6, { labels: sixteen, timestampNs: now + 1n }),
        entry(7, { labels: labelsA, timestampNs: now }),
        entry(8, { labels: labelsB, timestampNs: now + 1n }),
      ];
      for (const e of writes) await h.write(e);
      await h.sink.flush();
      assert.equal(h.loki.requests[0]?.answer, 400);
      assert.match(h.loki.requests[0].replyBody, /2 errors like: entry for stream .* has timestamp too old/);
      const reasons = Object.fromEntries(writes.map((e) => [e.occurrenceId, h.outcomes.get(e.occurrenceId)?.map((o) => (o.kind === 'dropped' ? o.reason : 'delivered'))]));
      assert.deepEqual(reasons, {
        'occ-1': ['too_old'],
        'occ-2': ['too_old'],
        'occ-3': ['too_new'],
        'occ-4': ['line_too_long'],
        'occ-5': ['too_many_labels'],
        'occ-6': ['too_many_labels'],
        'occ-7': ['delivered'],
        'occ-8': ['delivered'],
      });
      assert.deepEqual(
        h.loki.entries().map((e) => e.structuredMetadata['event_uid']),
        ['uid-7', 'uid-8'],
      );
      assert.equal(await h.metric('kube_event_shipper_events_shipped_total'), 2);
      assert.equal(await h.metric('kube_event_shipper_events_dropped_total{reason="too_many_labels"}'), 2);
      assert.equal(await h.metric('kube_event_shipper_events_dropped_total{reason="line_too_long"}'), 1);
    } finally {
      await h.close();
    }
  });

  it('a 401 after the token Secret rotates is retried with the new token, and nothing is lost', async () => {
    const volume = secretVolume({ token: 'old-token\n' });
    const h = await startHarness({ sink: { batchMaxWaitMs: 1, maxRetries: Infinity, bearerToken: 'old-token', secretFiles: { bearerToken: volume.path('token') } } });
    try {
      h.loki.requireAuthorization('Bearer old-token');
      await h.write(entry(1));
      await h.sink.flush();
      // The gateway takes the new token before the kubelet has updated the volume: 401s meanwhile.
      h.loki.requireAuthorization('Bearer new-token');
      let rotated = false;
      const writing = (async () => {
        for (let i = 2; i <= 20; i++) await h.write(entry(i));
        await h.sink.flush();
      })();
      await until(() => h.loki.requests.filter((r) => r.answer === 401).length >= 3, 'three 401s');
      volume.rotate({ token: 'new-token\n' });
      rotated = true;
      await writing;
      assert.ok(rotated);
      for (let i = 1; i <= 20; i++) assert.deepEqual(h.outcomes.get(`occ-${i}`), [{ kind: 'delivered' }], `occ-${i}`);
      assert.equal(h.loki.entries().length, 20);
      assert.equal(h.loki.requests.at(-1)?.authorization, 'Bearer new-token');
      assert.equal((await readMetrics(h.metrics)).has('kube_event_shipper_push_requests_total{status_code="401"}'), true);
      assert.equal(await h.metric('kube_event_shipper_events_dropped_total{reason="loki_rejected"}'), 0);
    } finally {
      await h.close();
      volume.remove();
    }
  });

  it('a rotated password file is used for the next push without waiting for a 401', async () => {
    const volume = secretVolume({ password: 'one' });
    const h = await startHarness({ autoAdvance: false, sink: { batchMaxWaitMs: 1, basicAuth: { username: 'kes', password: 'one' }, secretFiles: { password: volume.path('password') } } });
    const basic = (password: string): string => `Basic ${Buffer.from(`kes:${password}`).toString('base64')}`;
    try {
      await h.write(entry(1));
      const flushed = h.sink.flush();
      h.clock.advance(1);
      await flushed;
      volume.rotate({ password: 'two' });
      h.clock.advance(2_000); // past the once-a-second look at the files
      await h.write(entry(2));
      const second = h.sink.flush();
      h.clock.advance(1);
      await second;
      assert.deepEqual(
        h.loki.requests.map((r) => [r.authorization, r.answer]),
        [
          [basic('one'), 204],
          [basic('two'), 204],
        ],
      );
    } finally {
      await h.close();
      volume.remove();
    }
  });

  it('a 404 is logged once as a misrouted URL, keeps /readyz false while it lasts, and is retried until it works', async () => {
    const clock = new ManualClock();
    const health = createHealthTracker({ clock, stallTimeoutMs: 60_000 });
    health.setActive(true);
    health.watchOpen(true);
    health.destinationProbed(true);
    const readiness: string[] = [];
    const h = await startHarness({
      logLevel: 'info',
      sink: { batchMaxWaitMs: 1 },
      progress: {
        sourceActivity: () => undefined,
        watchOpen: () => undefined,
        sinkDelivered: () => {
          health.sinkDelivered();
          readiness.push(health.readiness().reason);
        },
        sinkUnavailable: (failure) => {
          health.sinkUnavailable(failure);
          // Loki's /ready answers 200 through the same ingress: the probe must not make it ready.
          health.destinationProbed(true);
          readiness.push(health.readiness().reason);
        },
        sinkPending: () => undefined,
      },
    });
    try {
      h.loki.script({ status: 404, body: '404 page not found\n' }, { status: 404 }, { status: 404 }, { status: 308, headers: { location: 'https://elsewhere/' } });
      await h.write(entry(1));
      await h.sink.flush();
      const pushUrl = `${h.loki.url}/loki/api/v1/push`;
      assert.deepEqual(readiness, [...Array<string>(3).fill(`Loki push URL misrouted: HTTP 404 from ${pushUrl}`), `Loki push URL misrouted: HTTP 308 from ${pushUrl}`, 'ok']);
      const misrouted = h.logs.filter((l) => l['code'] === 'E_LOKI_MISROUTED');
      assert.equal(misrouted.length, 1, 'logged once');
      assert.equal(misrouted[0]?.['url'], pushUrl);
      assert.equal(h.logs.filter((l) => l['msg'] === 'the Loki push URL reaches Loki again').length, 1);
      assert.deepEqual(h.outcomes.get('occ-1'), [{ kind: 'delivered' }]);
      assert.equal(health.readiness().ok, true);
    } finally {
      await h.close();
    }
  });

  it('a 413 from a body limit splits the batch in halves until each part passes; one entry alone still refused is too_large', async () => {
    const h = await startHarness({ fake: { maxBodyBytes: 4_096 }, sink: { batchMaxWaitMs: 1_000 } });
    try {
      // Random text does not compress: 40 lines of 400 bytes make a body of about 17 KB.
      const small = Array.from({ length: 40 }, (_, i) => entry(i, { line: `${i} ${randomBytes(200).toString('hex')}` }));
      const huge = entry(99, { line: randomBytes(4_000).toString('hex') });
      for (const e of [...small.slice(0, 20), huge, ...small.slice(20)]) await h.write(e);
      await h.sink.flush();
      for (const e of small) assert.deepEqual(h.outcomes.get(e.occurrenceId), [{ kind: 'delivered' }], e.occurrenceId);
      assert.deepEqual(h.outcomes.get('occ-99')?.map((o) => o.kind === 'dropped' && o.reason), ['too_large']);
      assert.deepEqual(
        h.loki
          .entries()
          .map((e) => e.structuredMetadata['event_uid'])
          .sort(),
        small.map((e) => e.structuredMetadata['event_uid']).sort(),
      );
      assert.ok(h.loki.requests.every((r) => r.answer === 204 || r.answer === 413));
      assert.equal(await h.metric('kube_event_shipper_events_dropped_total{reason="too_large"}'), 1);
    } finally {
      await h.close();
    }
  });

  it('after an outage of an hour, delivery resumes within 10 s of Loki coming back', async () => {
    const h = await startHarness({ sink: { batchMaxWaitMs: 1, maxRetries: Infinity } });
    try {
      const start = h.clock.now();
      h.loki.setDefaultReply({ status: 503 });
      await h.write(entry(1));
      await until(() => h.clock.now() - start > 60 * 60_000, 'an hour of retries', 60_000);
      const back = h.clock.now();
      h.loki.setDefaultReply({ status: 204 });
      await h.sink.flush();
      const delivered = h.clock.now();
      assert.deepEqual(h.outcomes.get('occ-1'), [{ kind: 'delivered' }]);
      assert.ok(delivered - back <= 10_000, `delivered ${delivered - back} ms after Loki came back`);
      assert.ok(Math.max(...h.clock.sleeps) <= 5_000, 'no retry waits longer than 5 s');
    } finally {
      await h.close();
    }
  });
});
