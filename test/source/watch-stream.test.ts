/**
 * The watch stream on its own, against the fake API server over real HTTP: how lines are cut
 * from chunks, parsed, measured, and how the stream ends. The reflector's use of it (stalls,
 * 410s, backpressure) is tested in source.test.ts.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { WatchStream } from '../../src/source/watch-stream.js';
import type { MalformedLine, WatchItem, WatchStreamOptions } from '../../src/source/watch-stream.js';
import { FakeKubeApiServer } from '../fakes/kube-api-server.js';
import { coreEvent } from '../fakes/kube-events.js';
import { fastClock } from '../support/manual-clock.js';
import { until } from '../support/wait.js';

const OPTIONS: WatchStreamOptions = {
  pathAndQuery: '/api/v1/events?watch=true&allowWatchBookmarks=true',
  inactivityMs: 30_000,
  stallMs: 30_000,
  maxQueuedEvents: 1_000,
  maxQueuedBytes: 8 * 1024 * 1024,
};

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('the watch stream', () => {
  let fake: FakeKubeApiServer;
  let controller: AbortController;
  let stream: WatchStream | undefined;
  let opened: number;
  let malformed: MalformedLine[];
  beforeEach(async () => {
    fake = await FakeKubeApiServer.start();
    controller = new AbortController();
    opened = 0;
    malformed = [];
  });
  afterEach(async () => {
    stream?.close();
    stream = undefined;
    await fake.close();
  });

  function open(options: Partial<WatchStreamOptions> = {}): WatchStream {
    stream = new WatchStream(
      { ...OPTIONS, ...options },
      {
        kubeConfig: fake.kubeConfig(),
        clock: fastClock(),
        onOpen: () => (opened += 1),
        onMalformed: (line) => malformed.push(line),
      },
      controller.signal,
    );
    return stream;
  }

  async function take(s: WatchStream, n: number): Promise<WatchItem[]> {
    const items: WatchItem[] = [];
    while (items.length < n) {
      const item = await s.next();
      if (item === undefined) break;
      items.push(item);
    }
    return items;
  }

  it('parses each line once and knows its byte length, also for a line cut across chunks in the middle of a multi-byte character', async () => {
    const s = open();
    await until(() => fake.openWatches === 1 && opened === 1, 'watch open');
    const whole = JSON.stringify({ type: 'ADDED', object: coreEvent({ name: 'whole', message: 'plain' }) });
    const cut = JSON.stringify({ type: 'MODIFIED', object: coreEvent({ name: 'cut', message: 'Grüße, 日本 🚀' }) });
    const bytes = Buffer.from(cut + '\n');
    const at = bytes.indexOf(Buffer.from('本')) + 1; // inside the three bytes of 本
    fake.sendWatchLine(whole);
    fake.sendWatchBytes(bytes.subarray(0, at));
    await pause(50); // let the first part go out as its own chunk
    fake.sendWatchBytes(bytes.subarray(at));
    const items = await take(s, 2);
    assert.deepEqual(
      items.map((i) => [i.type, (i.object as { metadata: { name: string } }).metadata.name, (i.object as { message: string }).message, i.bytes]),
      [
        ['ADDED', 'whole', 'plain', Buffer.byteLength(whole)],
        ['MODIFIED', 'cut', 'Grüße, 日本 🚀', Buffer.byteLength(cut)],
      ],
    );
    assert.deepEqual(malformed, []);
  });

  it('skips blank lines silently, reports lines that are not JSON objects with their start, and goes on', async () => {
    const s = open();
    await until(() => fake.openWatches === 1, 'watch open');
    fake.sendWatchBytes('\n \r\n');
    fake.sendWatchLine('this is not JSON {');
    fake.sendWatchLine('[1,2,3]');
    fake.sendWatchLine('null');
    fake.sendWatchLine(`{"type":"ADDED","object":{"message":"${'z'.repeat(500)}`);
    fake.sendWatchLine(JSON.stringify({ type: 'ADDED', object: coreEvent({ name: 'after' }) }));
    const [item] = await take(s, 1);
    assert.equal((item?.object as { metadata: { name: string } }).metadata.name, 'after');
    assert.deepEqual(
      malformed.map((m) => [m.excerpt, m.bytes]),
      [
        ['this is not JSON {', 18],
        ['[1,2,3]', 7],
        ['null', 4],
        [`{"type":"ADDED","object":{"message":"${'z'.repeat(120 - 37)}`, 537],
      ],
    );
    assert.ok(malformed.every((m) => m.error !== ''));
  });

  it('delivers a last line that ends without a newline, then ends as closed', async () => {
    const s = open();
    await until(() => fake.openWatches === 1, 'watch open');
    fake.sendWatchBytes(JSON.stringify({ type: 'ADDED', object: coreEvent({ name: 'last' }) }));
    fake.endWatches();
    const items = await take(s, 2);
    assert.deepEqual(items.map((i) => (i.object as { metadata: { name: string } }).metadata.name), ['last']);
    assert.equal(s.end.kind, 'closed');
  });

  it('reads the reason of a refused watch from the server\'s Status', async () => {
    fake.injectFault('watch', { kind: 'status', code: 403 });
    const s = open();
    assert.equal(await s.next(), undefined);
    const end = s.end;
    assert.equal(end.kind, 'auth');
    assert.match(end.kind === 'auth' ? String(end.message) : '', /cannot watch resource "events"/);
    assert.equal(opened, 0, 'a refused watch never opened');
  });

  it('ends as aborted when the caller aborts, dropping what it had not handed over', async () => {
    const s = open();
    await until(() => fake.openWatches === 1, 'watch open');
    fake.sendWatchLine(JSON.stringify({ type: 'ADDED', object: coreEvent({ name: 'queued' }) }));
    await pause(50);
    controller.abort();
    assert.equal(await s.next(), undefined);
    assert.equal(s.end.kind, 'aborted');
    await until(() => fake.openWatches === 0, 'the request ended');
  });
});
