import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { probeLoki } from '../../src/sink/loki/probe.js';
import { startFakeLoki } from '../fakes/loki-receiver.js';

describe('probeLoki', { timeout: 20_000 }, () => {
  it('a Loki that answers /ready with 200 is ready', async () => {
    const loki = await startFakeLoki();
    try {
      assert.deepEqual(await probeLoki({ url: loki.url }), { kind: 'ready' });
    } finally {
      await loki.close();
    }
  });

  it('a Loki that answers /ready with 503 is not ready, with its status and reply', async () => {
    const loki = await startFakeLoki();
    try {
      loki.setReady(503);
      assert.deepEqual(await probeLoki({ url: `${loki.url}/` }), { kind: 'not_ready', statusCode: 503, body: 'not ready' });
    } finally {
      await loki.close();
    }
  });

  it('a Loki that refuses connections is unreachable', async () => {
    const loki = await startFakeLoki();
    const url = loki.url;
    await loki.close();
    const result = await probeLoki({ url, timeoutMs: 2_000 });
    assert.equal(result.kind, 'unreachable');
  });
});
