import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { request } from 'undici';
import { startFakeLoki } from '../fakes/loki-receiver.js';
import { fixturePath, readFixtureJson } from '../support/fixtures.js';

interface TwinJson {
  streams: { labels: string; entries: { ts: string; line: string; structuredMetadata?: Record<string, string> }[] }[];
}

describe('the fake Loki receiver', { timeout: 20_000 }, () => {
  it('records a body promtail sent, with its tenant, as the JSON twin lists it', async () => {
    const loki = await startFakeLoki();
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
});
