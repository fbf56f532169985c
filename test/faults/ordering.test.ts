/**
 * Lists and replays that do not come in time order, into the fake Loki that enforces a stock
 * Loki 3's rules (1 h out-of-order window per stream, 7 d max age): `--initial all` over Events
 * spread over 6 h in key order, and `replay` of a day-long archive in random order. Loki must
 * refuse nothing: every occurrence ends up stored, once.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { coreEvent, newEvent, type KubeObject } from '../fakes/kube-events.js';
import { runCliToEnd } from '../support/run-cli.js';
import { FaultRig, isoAgo, occurrenceKey } from './harness.js';

const HOUR_MS = 3_600_000;

/** A deterministic pseudo-random sequence, so a failure can be replayed. */
function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('fault suite: lists and replays out of time order', () => {
  let rig: FaultRig | undefined;
  afterEach(async () => {
    await rig?.close();
    rig = undefined;
  });

  it('--initial all over a list whose times span 6 h in key order: Loki refuses nothing', async () => {
    rig = await FaultRig.start();
    const r = rig;
    const random = seeded(6);
    // Few streams (one namespace, two reasons) so the out-of-order window is what matters; the
    // key order (names) is unrelated to the time order.
    r.create(1_500, { namespace: 'busy', time: () => isoAgo(Math.floor(random() * 6 * HOUR_MS) + 60_000) });
    await r.spawn(['--page-size', '200']);
    await r.assertClean({ timeoutMs: 40_000 });
    const refused = r.loki.requests.filter((q) => q.answer === 400);
    assert.equal(refused.length, 0, 'no push answered 400');
  });

  it('replay of a 24 h archive in random order: Loki refuses nothing, and the replay says so', async () => {
    rig = await FaultRig.start();
    const r = rig;
    const random = seeded(24);
    const items: KubeObject[] = [];
    for (let i = 0; i < 3_000; i++) {
      const time = isoAgo(Math.floor(random() * 24 * HOUR_MS) + 60_000, i % 2 === 1);
      const spec = { namespace: `team-${i % 4}`, objectName: `pod-${i}`, time };
      const obj = i % 2 === 0 ? coreEvent(spec) : newEvent(spec);
      items.push(obj);
      r.created.push(occurrenceKey(String((obj['metadata'] as { uid: string }).uid), 1));
    }
    // kubectl prints a List in key order; shuffle it so no order is left to lean on.
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [items[i], items[j]] = [items[j]!, items[i]!];
    }
    const file = r.writeFile('archive.json', JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
    const result = await runCliToEnd(['replay', file, '--loki-url', r.loki.url, '--batch-max-wait', '50ms'], { env: r.env, timeoutMs: 60_000 });
    assert.equal(result.code, 0, result.stderr.slice(-2000));
    await r.assertClean({ timeoutMs: 5_000 });
    assert.equal(r.loki.requests.filter((q) => q.answer === 400).length, 0, 'no push answered 400');
  });
});
