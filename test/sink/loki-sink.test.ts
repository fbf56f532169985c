import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Entry } from '../../src/core/entry.js';
import { encodeEntry } from '../../src/sink/loki/codec.js';
import { HELD_OVERHEAD_BYTES } from '../../src/sink/loki/batch.js';
import { BASE_NS, entry, startHarness } from './harness.js';
import { until } from '../support/wait.js';

/** What an entry counts against the queue cap, as documented: its protobuf bytes + its id + a fixed overhead. */
function sizeOf(e: Entry): number {
  return encodeEntry(e).byteLength + e.occurrenceId.length + HELD_OVERHEAD_BYTES;
}

const firstEntry = entry(1);

describe('Loki sink: what arrives', { timeout: 20_000 }, () => {
  it('an entry arrives with its label string, nanosecond timestamp, line and structured metadata', async () => {
    const h = await startHarness();
    try {
      await h.write(entry(1, { labels: { job: 'kes', namespace: 'prod', reason: 'Back"Off\\x\ny', kind: '' }, timestampNs: BASE_NS + 789n }));
      await h.sink.flush();
      assert.equal(h.loki.requests.length, 1);
      const request = h.loki.requests[0];
      assert.equal(request?.path, '/loki/api/v1/push');
      assert.equal(request?.headers['content-type'], 'application/x-protobuf');
      assert.equal(request?.headers['user-agent'], 'kube-event-shipper');
      assert.equal(request?.tenant, undefined);
      assert.equal(request?.authorization, undefined);
      assert.deepEqual(request?.streams, [
        {
          labels: '{job="kes", namespace="prod", reason="Back\\"Off\\\\x\\ny"}',
          entries: [{ timestampNs: BASE_NS + 789n, ts: (BASE_NS + 789n).toString(), line: 'reason=Started msg="entry 1"', structuredMetadata: Object.assign(Object.create(null) as object, { event_uid: 'uid-1' }) }],
        },
      ]);
      assert.deepEqual(h.outcomes.get('occ-1'), [{ kind: 'delivered' }]);
    } finally {
      await h.close();
    }
  });

  it('tenant, basic auth and extra headers are sent with every push', async () => {
    const h = await startHarness({ sink: { tenant: 'team-a', basicAuth: { username: 'kes', password: 's3cr:et' }, headers: { 'X-Extra': 'yes' } } });
    try {
      await h.write(firstEntry);
      await h.sink.flush();
      const request = h.loki.requests[0];
      assert.equal(request?.tenant, 'team-a');
      assert.equal(request?.authorization, `Basic ${Buffer.from('kes:s3cr:et').toString('base64')}`);
      assert.equal(request?.headers['x-extra'], 'yes');
      assert.equal(h.loki.entries()[0]?.tenant, 'team-a');
    } finally {
      await h.close();
    }
  });

  it('a bearer token is sent as Authorization: Bearer', async () => {
    const h = await startHarness({ sink: { bearerToken: 'tok-123\n' } });
    try {
      await h.write(firstEntry);
      await h.sink.flush();
      assert.equal(h.loki.requests[0]?.authorization, 'Bearer tok-123');
    } finally {
      await h.close();
    }
  });

  it('a URL with a path prefix pushes under that prefix', async () => {
    const h = await startHarness();
    const prefixed = await startHarness({ sink: { url: `${h.loki.url}/gateway/` } });
    try {
      await prefixed.write(firstEntry);
      await prefixed.sink.flush();
      assert.equal(h.loki.requests[0]?.path, '/gateway/loki/api/v1/push');
    } finally {
      await prefixed.close();
      await h.close();
    }
  });

  it('structured metadata is left out when switched off', async () => {
    const h = await startHarness({ sink: { structuredMetadata: false } });
    try {
      await h.write(firstEntry);
      await h.sink.flush();
      assert.deepEqual({ ...h.loki.entries()[0]?.structuredMetadata }, {});
      assert.equal(h.loki.entries()[0]?.line, firstEntry.line);
    } finally {
      await h.close();
    }
  });

  it('a batch has one stream per label set, entries sorted by time within each stream', async () => {
    const h = await startHarness({ autoAdvance: false });
    try {
      const warning = { job: 'kes', type: 'Warning' };
      const normal = { job: 'kes', type: 'Normal' };
      await h.write(entry(1, { labels: warning, timestampNs: 30n }));
      await h.write(entry(2, { labels: normal, timestampNs: 20n }));
      await h.write(entry(3, { labels: warning, timestampNs: 10n }));
      await h.write(entry(4, { labels: { type: 'Warning', job: 'kes' }, timestampNs: 20n }));
      await h.sink.flush();
      assert.equal(h.loki.requests.length, 1);
      const streams = h.loki.requests[0]?.streams.map((s) => ({ labels: s.labels, ts: s.entries.map((e) => e.ts) }));
      assert.deepEqual(streams, [
        { labels: '{job="kes", type="Warning"}', ts: ['10', '20', '30'] },
        { labels: '{job="kes", type="Normal"}', ts: ['20'] },
      ]);
    } finally {
      await h.close();
    }
  });
});

describe('Loki sink: batching triggers', { timeout: 20_000 }, () => {
  it('a batch goes as soon as it holds batchMaxEntries entries', async () => {
    const h = await startHarness({ autoAdvance: false, sink: { batchMaxEntries: 3, batchMaxWaitMs: 1_000 } });
    try {
      for (let i = 0; i < 7; i++) await h.write(entry(i));
      await h.loki.waitForRequests(2);
      await until(() => h.clock.pending === 1, 'the age timer of the last entry');
      assert.equal(h.loki.requests.length, 2, 'the seventh entry waits for its batch to age');
      h.clock.advance(1_000);
      await h.loki.waitForRequests(3);
      assert.deepEqual(h.loki.requests.map((r) => r.streams[0]?.entries.length), [3, 3, 1]);
    } finally {
      await h.close();
    }
  });

  it('a batch goes as soon as it reaches batchMaxBytes', async () => {
    // Each entry counts about 510 bytes (16 + labels + 400 of line + metadata): two fit, three do not.
    const h = await startHarness({ autoAdvance: false, sink: { batchMaxBytes: 1_100, batchMaxWaitMs: 1_000 } });
    try {
      for (let i = 0; i < 5; i++) await h.write(entry(i, { line: 'x'.repeat(400) }));
      await h.loki.waitForRequests(2);
      await until(() => h.clock.pending === 1, 'the age timer of the last entry');
      assert.equal(h.loki.requests.length, 2);
      h.clock.advance(1_000);
      await h.loki.waitForRequests(3);
      assert.deepEqual(h.loki.requests.map((r) => r.streams[0]?.entries.length), [2, 2, 1]);
    } finally {
      await h.close();
    }
  });

  it('a batch goes when its first entry is batchMaxWaitMs old, not before', async () => {
    const h = await startHarness({ autoAdvance: false, sink: { batchMaxWaitMs: 1_000 } });
    try {
      await h.write(entry(1));
      await until(() => h.clock.pending === 1, 'the age timer');
      h.clock.advance(600);
      await h.write(entry(2));
      h.clock.advance(399);
      await until(() => h.clock.pending === 1, 'the age timer to be set again');
      assert.equal(h.loki.requests.length, 0);
      h.clock.advance(1);
      await h.loki.waitForRequests(1);
      assert.deepEqual(h.loki.requests[0]?.streams[0]?.entries.map((e) => e.line), [entry(1).line, entry(2).line]);
    } finally {
      await h.close();
    }
  });

  it('one entry larger than batchMaxBytes still goes, alone', async () => {
    const h = await startHarness({ autoAdvance: false, sink: { batchMaxBytes: 1_000 } });
    try {
      await h.write(entry(1));
      await h.write(entry(2, { line: 'y'.repeat(5_000) }));
      await h.write(entry(3));
      await h.sink.flush();
      assert.deepEqual(
        h.loki.requests.map((r) => r.streams.flatMap((s) => s.entries.map((e) => e.line.length))),
        [[entry(1).line.length], [5_000], [entry(3).line.length]],
      );
      assert.deepEqual(h.outcomes.get('occ-2'), [{ kind: 'delivered' }]);
    } finally {
      await h.close();
    }
  });
});

describe('Loki sink: retries and drops', { timeout: 20_000 }, () => {
  it('429 and 503 are retried with full-jitter exponential backoff until success', async () => {
    const h = await startHarness({ sink: { batchMaxWaitMs: 1 } });
    try {
      h.loki.script({ status: 429, body: 'Ingestion rate limit exceeded' }, { status: 503 }, { status: 503 });
      await h.write(firstEntry);
      await h.sink.flush();
      assert.deepEqual(h.outcomes.get('occ-1'), [{ kind: 'delivered' }]);
      assert.deepEqual(h.loki.requests.map((r) => r.answer), [429, 503, 503, 204]);
      // random() = 0.5 of 500, 1000, 2000 ms
      assert.deepEqual(h.clock.sleeps.filter((ms) => ms > 1), [250, 500, 1_000]);
      assert.equal(h.loki.entries().length, 1);
      assert.equal(await h.metric('kube_event_shipper_push_requests_total{status_code="429"}'), 1);
      assert.equal(await h.metric('kube_event_shipper_push_requests_total{status_code="503"}'), 2);
      assert.equal(await h.metric('kube_event_shipper_push_requests_total{status_code="204"}'), 1);
      assert.equal(await h.metric('kube_event_shipper_push_retries_total'), 3);
      assert.equal(await h.metric('kube_event_shipper_entries_pushed_total'), 1);
      assert.equal(await h.metric('kube_event_shipper_events_shipped_total'), 1);
      assert.ok((await h.metric('kube_event_shipper_bytes_pushed_total')) > 0);
      assert.equal(await h.metric('kube_event_shipper_push_duration_seconds_count'), 4);
      assert.deepEqual(h.progress, ['pending', 'unavailable', 'unavailable', 'unavailable', 'delivered', 'idle']);
    } finally {
      await h.close();
    }
  });

  it('the backoff doubles up to maxBackoffMs', async () => {
    const h = await startHarness({ random: () => 0.999, sink: { batchMaxWaitMs: 1, minBackoffMs: 500, maxBackoffMs: 3_000 } });
    try {
      h.loki.script({ status: 500 }, { status: 502 }, { status: 504 }, { status: 500 }, { status: 500 });
      await h.write(firstEntry);
      await h.sink.flush();
      assert.deepEqual(h.clock.sleeps.filter((ms) => ms > 1), [499, 999, 1_998, 2_997, 2_997]);
    } finally {
      await h.close();
    }
  });

  it('a Retry-After header is honoured', async () => {
    const h = await startHarness({ sink: { batchMaxWaitMs: 1 } });
    try {
      h.loki.script({ status: 429, headers: { 'retry-after': '7' } });
      await h.write(firstEntry);
      await h.sink.flush();
      assert.deepEqual(h.clock.sleeps.filter((ms) => ms > 1), [7_000]);
      assert.deepEqual(h.outcomes.get('occ-1'), [{ kind: 'delivered' }]);
    } finally {
      await h.close();
    }
  });

  it('a Retry-After of 0 still waits the minimum backoff, so it cannot make a zero-delay retry loop', async () => {
    const h = await startHarness({ sink: { batchMaxWaitMs: 1, minBackoffMs: 500 } });
    try {
      h.loki.script({ status: 429, headers: { 'retry-after': '0' } }, { status: 429, headers: { 'retry-after': '0' } });
      await h.write(firstEntry);
      await h.sink.flush();
      assert.deepEqual(h.clock.sleeps.filter((ms) => ms > 1), [500, 500]);
      assert.deepEqual(h.outcomes.get('occ-1'), [{ kind: 'delivered' }]);
    } finally {
      await h.close();
    }
  });

  it('with maxRetries Infinity a batch is retried past any count at the capped backoff, then delivered', async () => {
    const h = await startHarness({ random: () => 0.999, sink: { batchMaxWaitMs: 1, minBackoffMs: 500, maxBackoffMs: 3_000, maxRetries: Infinity } });
    try {
      h.loki.script(...Array.from({ length: 25 }, () => ({ status: 503 })));
      await h.write(firstEntry);
      await h.sink.flush();
      assert.equal(h.loki.requests.length, 26);
      assert.deepEqual(h.outcomes.get('occ-1'), [{ kind: 'delivered' }]);
      const sleeps = h.clock.sleeps.filter((ms) => ms > 1);
      assert.equal(sleeps.length, 25);
      assert.deepEqual(sleeps.slice(0, 4), [499, 999, 1_998, 2_997]);
      assert.ok(sleeps.slice(3).every((ms) => ms === 2_997), 'capped at maxBackoffMs');
      assert.equal(await h.metric('kube_event_shipper_events_dropped_total{reason="retries_exhausted"}'), 0);
    } finally {
      await h.close();
    }
  });

  it('a 400 drops only that batch, logs the reply cut to 1 KiB, and the next batch goes through', async () => {
    const h = await startHarness();
    try {
      h.loki.script({ status: 400, body: `entry too far behind ${'z'.repeat(3_000)}` });
      await h.write(entry(1));
      await h.sink.flush();
      await h.write(entry(2));
      await h.sink.flush();
      const dropped = h.outcomes.get('occ-1');
      assert.equal(dropped?.length, 1);
      assert.equal(dropped?.[0]?.kind === 'dropped' && dropped[0].reason, 'loki_rejected');
      assert.deepEqual(h.outcomes.get('occ-2'), [{ kind: 'delivered' }]);
      assert.deepEqual(h.loki.requests.map((r) => r.answer), [400, 204]);
      const log = h.logs.find((l) => l.msg === 'Loki rejected a push; batch dropped');
      assert.equal(log?.statusCode, 400);
      assert.equal((log?.reply as string).length, 1_024);
      assert.ok((log?.reply as string).startsWith('entry too far behind'));
      assert.equal(log?.code, 'E_LOKI_REJECTED');
      assert.equal(log?.err, undefined, 'an expected HTTP answer is not logged as an error with a stack');
      assert.equal(await h.metric('kube_event_shipper_events_dropped_total{reason="loki_rejected"}'), 1);
      assert.equal(await h.metric('kube_event_shipper_events_shipped_total'), 1);
      assert.equal(await h.metric('kube_event_shipper_push_retries_total'), 0);
    } finally {
      await h.close();
    }
  });

  it('a rejected batch of many entries logs one line with the count and a few sample ids, no stack', async () => {
    const h = await startHarness({ autoAdvance: false, sink: { batchMaxEntries: 500, batchMaxWaitMs: 1_000 } });
    try {
      h.loki.script({ status: 400, body: 'entry for stream has timestamp too old' });
      for (let i = 0; i < 500; i++) await h.write(entry(i));
      await h.sink.flush();
      assert.equal(h.loki.requests.length, 1);
      assert.equal(h.outcomes.size, 500);
      assert.equal(h.logs.length, 1, JSON.stringify(h.logs.slice(0, 3)));
      const log = h.logs[0];
      assert.equal(log?.msg, 'Loki rejected a push; batch dropped');
      assert.equal(log?.reason, 'loki_rejected');
      assert.equal(log?.entries, 500);
      assert.equal(log?.statusCode, 400);
      assert.equal(log?.reply, 'entry for stream has timestamp too old');
      assert.deepEqual(log?.sampleIds, ['occ-0', 'occ-1', 'occ-2']);
      assert.ok(!JSON.stringify(log).includes('stack'));
      assert.equal(await h.metric('kube_event_shipper_events_dropped_total{reason="loki_rejected"}'), 500);
    } finally {
      await h.close();
    }
  });

  it('a 501, like every answer but a 400 (and a 413 for one entry), is retried', async () => {
    const h = await startHarness();
    try {
      h.loki.script({ status: 501 }, { status: 405 }, { status: 422 });
      await h.write(firstEntry);
      await h.sink.flush();
      assert.deepEqual(
        h.loki.requests.map((r) => r.answer),
        [501, 405, 422, 204],
      );
      assert.deepEqual(h.outcomes.get('occ-1'), [{ kind: 'delivered' }]);
    } finally {
      await h.close();
    }
  });

  it('a connection reset mid-request is retried', async () => {
    const h = await startHarness({ sink: { batchMaxWaitMs: 1 } });
    try {
      h.loki.script({ reset: true });
      await h.write(firstEntry);
      await h.sink.flush();
      assert.deepEqual(h.loki.requests.map((r) => r.answer), ['reset', 204]);
      assert.deepEqual(h.outcomes.get('occ-1'), [{ kind: 'delivered' }]);
      assert.equal(await h.metric('kube_event_shipper_push_requests_total{status_code="network_error"}'), 1);
      assert.equal(h.loki.entries().length, 1);
    } finally {
      await h.close();
    }
  });

  it('a receiver that hangs hits the request timeout and the push is retried', async () => {
    const h = await startHarness({ sink: { batchMaxWaitMs: 1, timeoutMs: 250 } });
    try {
      h.loki.script({ hang: true });
      await h.write(firstEntry);
      await h.sink.flush();
      // On a loaded machine the retry itself may also run past the short timeout and be retried again.
      const answers = h.loki.requests.map((r) => r.answer);
      assert.equal(answers[0], 'hang');
      assert.equal(answers.at(-1), 204);
      assert.deepEqual(h.outcomes.get('occ-1'), [{ kind: 'delivered' }]);
      assert.equal(await h.metric('kube_event_shipper_push_requests_total{status_code="timeout"}'), answers.length - 1);
    } finally {
      await h.close();
    }
  });

  it('after maxRetries failed retries the batch is dropped as retries_exhausted', async () => {
    const h = await startHarness({ sink: { batchMaxWaitMs: 1, maxRetries: 2 } });
    try {
      h.loki.setDefaultReply({ status: 503 });
      await h.write(entry(1));
      await h.write(entry(2));
      await h.sink.flush();
      assert.equal(h.loki.requests.length, 3);
      for (const id of ['occ-1', 'occ-2']) {
        const outcomes = h.outcomes.get(id);
        assert.equal(outcomes?.length, 1);
        assert.equal(outcomes?.[0]?.kind === 'dropped' && outcomes[0].reason, 'retries_exhausted');
      }
      assert.equal(await h.metric('kube_event_shipper_events_dropped_total{reason="retries_exhausted"}'), 2);
      assert.ok(h.logs.some((l) => l.msg === 'Loki push failed too often; batch dropped'));
      const dropLines = h.logs.filter((l) => l.msg === 'Loki push failed too often; batch dropped');
      assert.equal(dropLines.length, 1, 'one line for the batch, not one per entry');
      assert.equal(dropLines[0]?.entries, 2);
      assert.deepEqual(dropLines[0]?.sampleIds, ['occ-1', 'occ-2']);
    } finally {
      await h.close();
    }
  });

  it('a Loki that refuses connections is retried as a network error', async () => {
    const gone = await startHarness();
    const url = gone.loki.url;
    await gone.close();
    const h = await startHarness({ sink: { url, batchMaxWaitMs: 1, maxRetries: 1 } });
    try {
      await h.write(firstEntry);
      await h.sink.flush();
      assert.equal(await h.metric('kube_event_shipper_push_requests_total{status_code="network_error"}'), 2);
      const outcome = h.outcomes.get('occ-1')?.[0];
      assert.equal(outcome?.kind === 'dropped' && outcome.reason, 'retries_exhausted');
    } finally {
      await h.close();
    }
  });
});

describe('Loki sink: shutdown', { timeout: 20_000 }, () => {
  it('close flushes what is batched and reports it delivered', async () => {
    const h = await startHarness({ autoAdvance: false, sink: { batchMaxWaitMs: 60_000 } });
    try {
      for (let i = 0; i < 5; i++) await h.write(entry(i));
      const report = await h.sink.close(5_000);
      assert.deepEqual(report, { delivered: 5, dropped: 0 });
      assert.equal(h.loki.requests.length, 1);
      assert.equal(h.loki.entries().length, 5);
    } finally {
      await h.close();
    }
  });

  it('what is not delivered when the drain timeout passes is reported dropped(shutdown)', async () => {
    const h = await startHarness({ autoAdvance: false, sink: { batchMaxWaitMs: 60_000, batchMaxEntries: 2 } });
    try {
      h.loki.setDefaultReply({ status: 503 });
      for (let i = 0; i < 3; i++) await h.write(entry(i));
      const closing = h.sink.close(2_000);
      await h.loki.waitForRequests(1);
      await until(() => h.clock.pending === 2, 'the backoff and the drain deadline');
      h.clock.advance(2_000);
      assert.deepEqual(await closing, { delivered: 0, dropped: 3 });
      for (let i = 0; i < 3; i++) {
        const outcomes = h.outcomes.get(`occ-${i}`);
        assert.equal(outcomes?.length, 1);
        assert.equal(outcomes?.[0]?.kind === 'dropped' && outcomes[0].reason, 'shutdown');
      }
      assert.equal(await h.metric('kube_event_shipper_events_dropped_total{reason="shutdown"}'), 3);
      assert.equal(await h.metric('kube_event_shipper_queue_entries'), 0);
      await h.write(entry(9));
      const late = h.outcomes.get('occ-9');
      assert.equal(late?.[0]?.kind === 'dropped' && late[0].reason, 'shutdown', 'a write after close is dropped at once');
    } finally {
      await h.close();
    }
  });

  it('a push still in flight at the drain deadline is aborted and reported dropped(shutdown)', async () => {
    const h = await startHarness({ autoAdvance: false, sink: { timeoutMs: 60_000 } });
    try {
      h.loki.script({ hang: true });
      await h.write(firstEntry);
      const closing = h.sink.close(1_000);
      await h.loki.waitForRequests(1);
      h.clock.advance(1_000);
      assert.deepEqual(await closing, { delivered: 0, dropped: 1 });
      const outcome = h.outcomes.get('occ-1')?.[0];
      assert.equal(outcome?.kind === 'dropped' && outcome.reason, 'shutdown');
    } finally {
      await h.close();
    }
  });
});

describe('Loki sink: bounded queue', { timeout: 20_000 }, () => {
  it('a full queue pauses the producer until Loki takes the batch', async () => {
    // The cap holds three entries, not four.
    const h = await startHarness({ autoAdvance: false, sink: { queueMaxBytes: 3 * sizeOf(entry(0, { line: 'x'.repeat(400) })) + 100, batchMaxWaitMs: 1_000 } });
    try {
      h.loki.script({ status: 503 });
      for (let i = 0; i < 3; i++) await h.write(entry(i, { line: 'x'.repeat(400) }));
      let fourthAccepted = false;
      const fourth = h.write(entry(3, { line: 'x'.repeat(400) })).then(() => {
        fourthAccepted = true;
      });
      h.clock.advance(1_000);
      await h.loki.waitForRequests(1);
      await until(() => h.clock.pending === 1, 'the backoff');
      assert.equal(fourthAccepted, false, 'the producer is paused while the batch is retried');
      assert.equal(await h.metric('kube_event_shipper_queue_entries'), 3);
      assert.equal(await h.metric('kube_event_shipper_queue_bytes'), 3 * sizeOf(entry(0, { line: 'x'.repeat(400) })));
      h.clock.advance(250);
      await fourth;
      assert.equal(fourthAccepted, true);
      await h.sink.flush();
      assert.deepEqual(h.loki.entries().map((e) => e.structuredMetadata.event_uid), ['uid-0', 'uid-1', 'uid-2', 'uid-3']);
      assert.equal(await h.metric('kube_event_shipper_queue_bytes'), 0);
    } finally {
      await h.close();
    }
  });

  it('queue_bytes counts an entry as the memory it holds: its encoded bytes, its id and a fixed overhead', async () => {
    const h = await startHarness({ autoAdvance: false });
    try {
      const unicode = entry(1, { labels: { job: 'kes', reason: 'Grüße' }, line: 'Pod ✓ läuft 🚀', structuredMetadata: { node: 'nœud' } });
      await h.write(unicode);
      assert.equal(await h.metric('kube_event_shipper_queue_bytes'), sizeOf(unicode));
      assert.equal(await h.metric('kube_event_shipper_queue_entries'), 1);
      await h.sink.flush();
      assert.equal(await h.metric('kube_event_shipper_queue_bytes'), 0);
    } finally {
      await h.close();
    }
  });

  it('an entry larger than the whole queue is dropped as too_large', async () => {
    const h = await startHarness({ sink: { queueMaxBytes: 1_000 } });
    try {
      await h.write(entry(1, { line: 'x'.repeat(2_000) }));
      const outcome = h.outcomes.get('occ-1')?.[0];
      assert.equal(outcome?.kind === 'dropped' && outcome.reason, 'too_large');
      assert.equal(await h.metric('kube_event_shipper_events_dropped_total{reason="too_large"}'), 1);
    } finally {
      await h.close();
    }
  });

  it('five thousand entries through a small queue and flaky Loki are delivered exactly once each', async () => {
    const h = await startHarness({ sink: { batchMaxEntries: 250, queueMaxBytes: 32 * 1024, batchMaxWaitMs: 5 } });
    try {
      h.loki.script({ status: 204 }, { status: 503 }, { status: 204 }, { reset: true }, { status: 429 }, { status: 500 });
      const total = 5_000;
      for (let i = 0; i < total; i++) await h.write(entry(i, { labels: { job: 'kes', reason: `R${i % 7}` } }));
      await h.sink.flush();
      const lines = h.loki.entries().map((e) => e.line);
      assert.equal(lines.length, total);
      assert.equal(new Set(lines).size, total);
      for (let i = 0; i < total; i++) assert.deepEqual(h.outcomes.get(`occ-${i}`), [{ kind: 'delivered' }], `occ-${i}`);
      assert.equal(await h.metric('kube_event_shipper_events_shipped_total'), total);
      assert.equal(await h.metric('kube_event_shipper_entries_pushed_total'), total);
    } finally {
      await h.close();
    }
  });
});
