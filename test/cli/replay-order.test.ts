import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { coreEvent, newEvent } from '../fakes/kube-events.js';
import { startFakeLoki, type FakeLoki } from '../fakes/loki-receiver.js';
import { cleanEnv, runCliToEnd } from '../support/run-cli.js';

const HOUR_MS = 3_600_000;

describe('replay of an archive in random time order into a stock Loki', () => {
  let loki: FakeLoki;
  before(async () => {
    loki = await startFakeLoki();
  });
  after(async () => {
    await loki.close();
  });

  it('a 24 h JSON-lines file in random order: every occurrence delivered, none refused for its order, none retimed', async () => {
    const n = 3_000;
    const lines: string[] = [];
    let seed = 7;
    for (let i = 0; i < n; i++) {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      // Random times over the last 24 h, a handful of streams.
      const time = new Date(Date.now() - 60_000 - (seed % (24 * HOUR_MS))).toISOString();
      const spec = { namespace: `ns-${i % 4}`, name: `ev-${i}`, reason: i % 2 === 0 ? 'BackOff' : 'Pulled', time };
      lines.push(JSON.stringify(i % 5 === 0 ? newEvent({ ...spec, time: time.replace('Z', '123Z') }) : coreEvent(spec)));
    }
    const file = join(mkdtempSync(join(tmpdir(), 'kes-replay-order-')), 'day.jsonl');
    writeFileSync(file, lines.join('\n') + '\n');
    const tenant = 't-replay-order';
    const result = await runCliToEnd(['replay', file, '--loki-url', loki.url, '--tenant', tenant], { env: cleanEnv(), timeoutMs: 60_000 });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, new RegExp(`replay done: ${n} events read, ${n} delivered, 0 dropped`));
    const stored = loki.entries().filter((e) => e.tenant === tenant);
    assert.equal(stored.length, n);
    assert.equal(new Set(stored.map((e) => e.structuredMetadata['event_uid'])).size, n);
    assert.equal(stored.filter((e) => e.line.includes('original_ts=')).length, 0, 'every entry at its true time');
    assert.deepEqual(loki.refusals(), [], 'the fake Loki (stock rules) refused nothing');
  });
});
