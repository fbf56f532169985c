import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { request } from 'undici';
import { encodePushBody, type PushStream } from '../../src/sink/loki/codec.js';
import { startFakeLoki, type FakeLoki, type FakeLokiOptions } from '../fakes/loki-receiver.js';
import { fixturePath, readFixtureJson } from '../support/fixtures.js';

interface TwinJson {
  streams: { labels: string; entries: { ts: string; line: string; structuredMetadata?: Record<string, string> }[] }[];
}

interface RefusalCase {
  request_json_push: string | { streams: { stream: Record<string, string>; values: [string, string][] }[] };
  status: number;
  body: string;
}
const refusalFixture = readFixtureJson('loki-push/loki-refusals.json') as { cases: Record<string, RefusalCase> };

/** A time the recorded Loki answered at: its oldest acceptable timestamp was 7 d before 2026-12-01T22:16:47Z. */
const RECORDED_AT = Date.parse('2026-12-01T22:16:47.400Z');
const MINUTE_NS = 60_000_000_000n;
const nowNs = (): bigint => BigInt(Date.now()) * 1_000_000n;

function labelString(labels: Record<string, string>): string {
  return `{${Object.keys(labels)
    .sort()
    .map((name) => `${name}=${JSON.stringify(labels[name])}`)
    .join(', ')}}`;
}

async function push(loki: FakeLoki, streams: PushStream[], tenant?: string): Promise<{ status: number; body: string }> {
  const res = await request(`${loki.url}/loki/api/v1/push`, {
    method: 'POST',
    body: encodePushBody(streams),
    headers: { 'content-type': 'application/x-protobuf', ...(tenant !== undefined ? { 'x-scope-orgid': tenant } : {}) },
  });
  return { status: res.statusCode, body: await res.body.text() };
}

function stream(labels: string, ...entries: [bigint, string, Record<string, string>?][]): PushStream {
  return { labels, entries: entries.map(([timestampNs, line, structuredMetadata]) => ({ timestampNs, line, structuredMetadata: structuredMetadata ?? {} })) };
}

async function withLoki(options: FakeLokiOptions, body: (loki: FakeLoki) => Promise<void>): Promise<void> {
  const loki = await startFakeLoki(options);
  try {
    await body(loki);
  } finally {
    await loki.close();
  }
}

describe('the fake Loki receiver', { timeout: 20_000 }, () => {
  it('records a body promtail sent, with its tenant, as the JSON twin lists it', async () => {
    // The body was recorded on 2026-12-01: the fake's clock goes back there so its age check passes.
    const loki = await startFakeLoki({ now: () => RECORDED_AT });
    try {
      const body = readFileSync(fixturePath('loki-push/promtail-60-events-45-streams.bin'));
      const res = await request(`${loki.url}/loki/api/v1/push`, { method: 'POST', body, headers: { 'content-type': 'application/x-protobuf', 'x-scope-orgid': 'team-a' } });
      await res.body.dump();
      assert.equal(res.statusCode, 204);
      const twin = readFixtureJson('loki-push/promtail-60-events-45-streams.json') as TwinJson;
      const got = loki.requests[0]?.streams.map((s) => ({ labels: s.labels, entries: s.entries.map((e) => ({ ts: e.ts, line: e.line, structuredMetadata: { ...e.structuredMetadata } })) }));
      assert.deepEqual(got, twin.streams);
      assert.equal(loki.requests[0]?.tenant, 'team-a');
      assert.equal(loki.entries().length, 60);
    } finally {
      await loki.close();
    }
  });

  it('answers 400 to a body it cannot decode and stores nothing from it', async () => {
    const loki = await startFakeLoki();
    try {
      const res = await request(`${loki.url}/loki/api/v1/push`, { method: 'POST', body: 'not snappy', headers: { 'content-type': 'application/x-protobuf' } });
      assert.equal(res.statusCode, 400);
      assert.match(await res.body.text(), /decode error/);
      assert.equal(loki.requests[0]?.answer, 400);
      assert.equal(loki.entries().length, 0);
    } finally {
      await loki.close();
    }
  });

  it('serves /ready with 200 "ready", or the status a test sets', async () => {
    const loki = await startFakeLoki();
    try {
      const ready = await request(`${loki.url}/ready`);
      assert.equal(ready.statusCode, 200);
      assert.equal(await ready.body.text(), 'ready');
      loki.setReady(503);
      const notReady = await request(`${loki.url}/ready`);
      await notReady.body.dump();
      assert.equal(notReady.statusCode, 503);
    } finally {
      await loki.close();
    }
  });

  it('waitForEntries rejects when the entries never come', async () => {
    const loki = await startFakeLoki();
    try {
      await assert.rejects(loki.waitForEntries(1, 20), /timed out waiting for 1 entries/);
    } finally {
      await loki.close();
    }
  });

  describe('enforces a stock Loki 3.2\'s rules and answers in its words', () => {
    for (const name of ['old-sample', 'future', 'line-too-long', 'too-many-labels']) {
      it(`answers the recorded "${name}" push as Loki 3.2.2 did`, async () => {
        const recorded = refusalFixture.cases[name];
        assert.ok(recorded !== undefined && typeof recorded.request_json_push !== 'string');
        const streams = recorded.request_json_push.streams.map((s) => ({
          labels: labelString(s.stream),
          entries: s.values.map(([ts, line]) => ({ timestampNs: BigInt(ts), line: line.includes('…(300000 bytes)') ? 'x'.repeat(300_000) : line, structuredMetadata: {} })),
        }));
        await withLoki({ now: () => RECORDED_AT }, async (loki) => {
          const answer = await push(loki, streams);
          assert.deepEqual(answer, { status: recorded.status, body: recorded.body });
          const sent = streams.flatMap((s) => s.entries.map((e) => e.line));
          const kept = loki.entries().map((e) => e.line);
          assert.equal(kept.length + loki.refusals().length, sent.length);
          if (name === 'old-sample') assert.deepEqual(kept, ['fresh']);
          else assert.deepEqual(kept, []);
        });
      });
    }

    it('answers the recorded out-of-order push as Loki 3.2.2 did: each entry named, then the total for the stream', async () => {
      const recorded = refusalFixture.cases['out-of-order'];
      assert.ok(recorded !== undefined);
      const labels = '{cluster="day10532", job="kube-event-shipper", kind="CronJob", namespace="team-12", reason="SuccessfulDelete", source="cronjob-controller", type="Normal"}';
      const at = (iso: string): bigint => BigInt(Date.parse(iso)) * 1_000_000n;
      await withLoki({ now: () => Date.parse('2026-12-01T15:43:00Z') }, async (loki) => {
        assert.equal((await push(loki, [stream(labels, [at('2026-12-01T15:42:30Z'), 'newest'])])).status, 204);
        const answer = await push(loki, [stream(labels, [at('2026-12-01T07:15:25Z'), 'a'], [at('2026-12-01T07:16:25Z'), 'b'])]);
        assert.deepEqual(answer, { status: recorded.status, body: recorded.body });
        assert.deepEqual(
          loki.refusals().map((r) => [r.line, r.reason]),
          [
            ['a', 'too_far_behind'],
            ['b', 'too_far_behind'],
          ],
        );
      });
    });

    it('refuses an entry more than 1 h behind its stream\'s newest, counting the order inside one push', async () => {
      await withLoki({}, async (loki) => {
        const t = nowNs() - MINUTE_NS;
        const first = await push(loki, [stream('{job="a"}', [t, 'new'], [t - 120n * MINUTE_NS, 'two hours older'])]);
        assert.equal(first.status, 400);
        assert.match(first.body, /^entry with timestamp .* ignored, reason: 'entry too far behind, entry timestamp is: .*',\nuser 'fake', total ignored: 1 out of 2 for stream: \{job="a", service_name="a"\}\n$/);
        const second = await push(loki, [stream('{job="b"}', [t - 120n * MINUTE_NS, 'two hours older'], [t, 'new'])]);
        assert.equal(second.status, 204);
        assert.deepEqual(
          loki.entries().map((e) => `${e.labels} ${e.line}`),
          ['{job="a"} new', '{job="b"} two hours older', '{job="b"} new'],
        );
        // Another stream is not held back by the first one's newest entry; 59 minutes behind is fine.
        assert.equal((await push(loki, [stream('{job="a"}', [t - 59n * MINUTE_NS, 'within the window'])])).status, 204);
      });
    });

    it('stores the accepted rest of a partial 400 and names at most 10 entries, with the total', async () => {
      await withLoki({}, async (loki) => {
        const t = nowNs() - MINUTE_NS;
        await push(loki, [stream('{job="a"}', [t, 'newest'])]);
        const old = Array.from({ length: 12 }, (_, i): [bigint, string] => [t - 200n * MINUTE_NS + BigInt(i), `old ${i}`]);
        const answer = await push(loki, [stream('{job="a"}', ...old, [t - 30n * MINUTE_NS, 'recent'])]);
        assert.equal(answer.status, 400);
        assert.equal(answer.body.match(/^entry with timestamp/gm)?.length, 10);
        assert.match(answer.body, /total ignored: 12 out of 13 for stream/);
        assert.deepEqual(
          loki.entries().map((e) => e.line),
          ['newest', 'recent'],
        );
        assert.equal(loki.refusals().length, 12);
      });
    });

    it('keeps one entry per stream, time and line, silently, with the first one\'s metadata', async () => {
      await withLoki({}, async (loki) => {
        const t = nowNs() - MINUTE_NS;
        assert.equal((await push(loki, [stream('{job="a"}', [t, 'same', { v: '1' }], [t, 'other line'])])).status, 204);
        assert.equal((await push(loki, [stream('{job="a"}', [t, 'same', { v: '2' }], [t + 1n, 'same'])])).status, 204);
        assert.deepEqual(
          loki.entries().map((e) => [e.ts, e.line, { ...e.structuredMetadata }]),
          [
            [t.toString(), 'same', { v: '1' }],
            [t.toString(), 'other line', {}],
            [(t + 1n).toString(), 'same', {}],
          ],
        );
        assert.equal(loki.requests[1]?.duplicates, 1);
      });
    });

    it('counts 15 label names without the service_name it derives from job, app, component…', async () => {
      await withLoki({}, async (loki) => {
        const t = nowNs() - MINUTE_NS;
        const names = (n: number): string => `{${Array.from({ length: n }, (_, i) => `l${String(i).padStart(2, '0')}="v"`).join(', ')}}`;
        assert.equal((await push(loki, [stream(names(15), [t, 'fifteen'])])).status, 204);
        const sixteen = await push(loki, [stream(names(16), [t, 'sixteen'])]);
        assert.equal(sixteen.status, 400);
        assert.match(sixteen.body, /service_name="unknown_service"\}' has 16 label names; limit 15\n$/);
        const fromApp = await push(loki, [stream('{app="web", job="j", l01="v", l02="v", l03="v", l04="v", l05="v", l06="v", l07="v", l08="v", l09="v", l10="v", l11="v", l12="v", l13="v", l14="v"}', [t, 'x'])]);
        assert.match(fromApp.body, /service_name="web"\}' has 16 label names/);
      });
    });

    it('reports only the last stream\'s out-of-order refusals, as Loki\'s ingester does; refusals() has them all', async () => {
      await withLoki({}, async (loki) => {
        const t = nowNs() - MINUTE_NS;
        await push(loki, [stream('{job="a"}', [t, 'newest a']), stream('{job="b"}', [t, 'newest b'])]);
        const old = t - 120n * MINUTE_NS;
        const hidden = await push(loki, [stream('{job="a"}', [old, 'old a']), stream('{job="b"}', [t - 1n, 'fine b'])]);
        assert.deepEqual(hidden, { status: 204, body: '' });
        const named = await push(loki, [stream('{job="b"}', [t - 2n, 'fine b']), stream('{job="a"}', [old, 'old a again'])]);
        assert.equal(named.status, 400);
        assert.match(named.body, /for stream: \{job="a", service_name="a"\}\n$/);
        assert.deepEqual(
          loki.refusals().map((r) => r.line),
          ['old a', 'old a again'],
        );
      });
    });

    it('answers 429 over a rate limit a test sets, storing nothing, and refuses streams over a stream limit', async () => {
      const clock = { ms: Date.now() };
      await withLoki({ now: () => clock.ms, limits: { ingestionRateBytes: 100, ingestionBurstBytes: 100 } }, async (loki) => {
        const t = nowNs() - MINUTE_NS;
        assert.equal((await push(loki, [stream('{job="a"}', [t, 'x'.repeat(80)])])).status, 204);
        const limited = await push(loki, [stream('{job="a"}', [t + 1n, 'y'.repeat(80)])]);
        assert.equal(limited.status, 429);
        assert.match(limited.body, /^Ingestion rate limit exceeded for user fake \(limit: 100 bytes\/sec\) while attempting to ingest '1' lines totaling '80' bytes/);
        clock.ms += 1_000;
        assert.equal((await push(loki, [stream('{job="a"}', [t + 1n, 'y'.repeat(80)])])).status, 204);
        loki.setLimits({ maxStreams: 1 });
        const streamLimited = await push(loki, [stream('{job="new"}', [t, 'z'])]);
        assert.equal(streamLimited.status, 429);
        assert.match(streamLimited.body, /^Maximum active stream limit exceeded when trying to create stream \{job="new", service_name="new"\}/);
        assert.equal(loki.entries().length, 2);
      });
    });

    it('answers 413 and stores nothing when a body passes the gateway limit a test sets', async () => {
      await withLoki({ maxBodyBytes: 200 }, async (loki) => {
        const t = nowNs() - MINUTE_NS;
        // Random text: snappy cannot shrink it below the limit.
        const big = await push(loki, [stream('{job="a"}', [t, randomBytes(300).toString('hex')])]);
        assert.equal(big.status, 413);
        assert.equal((await push(loki, [stream('{job="a"}', [t, 'small'])])).status, 204);
        assert.deepEqual(
          loki.entries().map((e) => e.line),
          ['small'],
        );
      });
    });
  });
});
