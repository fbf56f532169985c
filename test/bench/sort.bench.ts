/**
 * The time sort of a large list: 100k entries (realistic lines, key order unrelated to time order)
 * through the TimeSorter with its default 8 MiB budget, live heap sampled (after a full GC) while
 * adding and while draining; compared with holding the whole list in an array and sorting it.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Entry } from '../../src/core/entry.js';
import { compareSorted, DEFAULT_SORT_BUDGET_BYTES, TimeSorter, type Sorted } from '../../src/pipeline/time-sorter.js';

setFlagsFromString('--expose_gc');
const gc = runInNewContext('gc') as () => void;
const MB = 1024 * 1024;
const N = 100_000;
const BASE = BigInt(Date.now() - 6 * 3_600_000) * 1_000_000n;

function entry(i: number): Entry {
  const ts = BASE + BigInt((i * 7_919) % N) * 216_000_000_000n / 1_000n;
  return {
    labels: { job: 'kube-event-shipper', namespace: `team-${i % 40}`, reason: i % 3 === 0 ? 'BackOff' : 'Pulled', type: 'Normal', kind: 'Pod', source: 'kubelet' },
    timestampNs: ts,
    line: `kind=Pod namespace=team-${i % 40} name=web-${i}-7d9f8c6b5-x2x4z reason=BackOff type=Warning count=${i % 17} msg="Back-off restarting failed container app in pod web-${i}-7d9f8c6b5-x2x4z_team-${i % 40}(3f0c9a5e-${i})" first_seen=2026-12-01T07:15:25Z last_seen=2026-12-01T07:16:25Z source=kubelet host=node-${i % 9} event=web-${i}.17c3f0a9b2 event_uid=00000000-0000-4000-8000-${String(i).padStart(12, '0')} object_uid=3f0c9a5e-${i}`,
    structuredMetadata: { event_uid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, object_name: `web-${i}`, node: `node-${i % 9}` },
    occurrenceId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}:1:${ts}`,
  };
}

function liveMb(): number {
  gc();
  return process.memoryUsage().heapUsed / MB;
}

export default async function bench(): Promise<void> {
  const base = liveMb();
  let peak = 0;
  const started = performance.now();
  const sorter = new TimeSorter({ budgetBytes: DEFAULT_SORT_BUDGET_BYTES });
  for (let i = 0; i < N; i++) {
    await sorter.add(entry(i), i);
    if (i % 10_000 === 0) peak = Math.max(peak, liveMb() - base);
  }
  let n = 0;
  let last = -1n;
  for await (const { entry: e } of sorter.drain()) {
    if (e.timestampNs < last) throw new Error('not sorted');
    last = e.timestampNs;
    if (++n % 10_000 === 0) peak = Math.max(peak, liveMb() - base);
  }
  const ms = performance.now() - started;
  await sorter.dispose();
  process.stdout.write(`external sort: ${N} entries in ${ms.toFixed(0)} ms, ${sorter.spilledRuns} runs spilled, at most ${sorter.peakInMemory} entries in memory, peak live heap +${peak.toFixed(1)} MB\n`);

  const held: Sorted[] = [];

  const t2 = performance.now();
  for (let i = 0; i < N; i++) held.push({ entry: entry(i), tag: i });
  held.sort(compareSorted);
  const heldPeak = liveMb() - base;
  process.stdout.write(`whole list in memory: ${N} entries in ${(performance.now() - t2).toFixed(0)} ms, live heap +${heldPeak.toFixed(1)} MB (ratio ${(heldPeak / Math.max(peak, 0.1)).toFixed(1)}x)\n`);
}
