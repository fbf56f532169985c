import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { Entry } from '../../src/core/entry.js';
import { TimeSorter } from '../../src/pipeline/time-sorter.js';

function entry(i: number, tsNs: bigint): Entry {
  return {
    labels: { job: 'kube-event-shipper', namespace: `ns-${i % 7}` },
    timestampNs: tsNs,
    line: `kind=Pod name=p-${i} msg="ünïcode \\"quoted\\" line"`,
    structuredMetadata: { event_uid: `uid-${i}` },
    occurrenceId: `occ-${String(i).padStart(6, '0')}`,
    ...(i % 5 === 0 ? { retimed: 'too_old' as const } : {}),
  };
}

/** A deterministic shuffle (LCG), so a failure is reproducible. */
function shuffled(n: number, seed = 42): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  let s = seed;
  for (let i = n - 1; i > 0; i--) {
    s = (s * 1_103_515_245 + 12_345) % 2 ** 31;
    const j = s % (i + 1);
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
  return order;
}

const BASE = 1_790_000_000_000_000_000n;

describe('the external time sort', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kes-sort-test-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('sorts a set that fits its budget in memory, without touching the disk', async () => {
    const sorter = new TimeSorter({ budgetBytes: 10 * 1024 * 1024, dir });
    for (const i of shuffled(500)) await sorter.add(entry(i, BASE + BigInt(i) * 1_000_000_000n), i);
    const out: number[] = [];
    for await (const { tag } of sorter.drain()) out.push(tag);
    assert.deepEqual(out, Array.from({ length: 500 }, (_, i) => i));
    assert.equal(sorter.spilledRuns, 0);
    assert.deepEqual(await readdir(dir), [], 'no temp directory');
    assert.equal(sorter.size, 0);
  });

  it('sorts a large set through spilled runs with at most its budget of entries in memory, and keeps every field', async () => {
    const n = 5_000;
    // ~143 bytes per encoded entry (record plus key; the label set and metadata names are written
    // as numbers): about 72 entries per run.
    const sorter = new TimeSorter({ budgetBytes: 10 * 1024, dir, fanIn: 8 });
    const input = new Map<number, Entry>();
    for (const i of shuffled(n)) {
      // Equal times in pairs: the occurrence id decides between them.
      const e = entry(i, BASE + BigInt(Math.floor(i / 2)) * 1_000_000_000n);
      input.set(i, e);
      await sorter.add(e, i);
    }
    assert.equal(sorter.size, n);
    assert.ok(sorter.spilledRuns > 8, `${sorter.spilledRuns} runs (more than the fan-in, so runs were folded)`);
    const out: number[] = [];
    for await (const { entry: got, tag } of sorter.drain()) {
      assert.deepEqual(got, input.get(tag));
      out.push(tag);
    }
    assert.deepEqual(out, Array.from({ length: n }, (_, i) => i));
    // The held run (≤ budget) plus one head per run being merged (≤ fan-in).
    assert.ok(sorter.peakInMemory <= 72 + 8, `peak ${sorter.peakInMemory} entries in memory for ${n}`);
    await sorter.dispose();
    assert.deepEqual(await readdir(dir), [], 'temp files removed');
  });

  it('gives back every field exactly through spilled runs: non-ASCII and astral text, many label sets and metadata names, JSON tags', async () => {
    const sorter = new TimeSorter<{ i: number; note: string }>({ budgetBytes: 4 * 1024, dir });
    const input: Entry[] = [];
    for (let i = 0; i < 400; i++) {
      const metadata: Record<string, string> = {};
      // More distinct names than a record can number (255), and values of every width.
      for (let k = 0; k < i % 4; k++) metadata[`name_${(i * 7 + k) % 300}`] = k === 0 ? `ünï ${i}` : k === 1 ? '🙂 ok' : '';
      input.push({
        labels: { job: 'j', namespace: `ns-${i % 50}`, emoji: i % 2 === 0 ? '🙂' : 'ä' },
        timestampNs: BASE + BigInt((i * 37) % 400) * 1_000n,
        line: `msg="${'é'.repeat(i % 5)}🙂 ${i}" x=${i}`,
        structuredMetadata: metadata,
        occurrenceId: `id-🙂-${i}`,
        ...(i % 3 === 0 ? { retimed: 'out_of_order' as const } : {}),
      });
    }
    for (const [i, e] of input.entries()) await sorter.add(e, { i, note: 'ß' });
    assert.ok(sorter.spilledRuns > 2, `${sorter.spilledRuns} runs`);
    let count = 0;
    for await (const { entry: got, tag } of sorter.drain()) {
      assert.deepEqual(got, input[tag.i]);
      assert.deepEqual(Object.keys(got.structuredMetadata), Object.keys(input[tag.i]!.structuredMetadata), 'metadata in its order');
      assert.equal(tag.note, 'ß');
      count += 1;
    }
    assert.equal(count, input.length);
    await sorter.dispose();
  });

  it('is empty after a drain and can be filled again; leaving a drain early discards the rest', async () => {
    const sorter = new TimeSorter({ budgetBytes: 20 * 1024, dir });
    for (const i of shuffled(300)) await sorter.add(entry(i, BASE + BigInt(i)), i);
    const firstTen: number[] = [];
    for await (const { tag } of sorter.drain()) {
      firstTen.push(tag);
      if (firstTen.length === 10) break;
    }
    assert.deepEqual(firstTen, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.equal(sorter.size, 0);
    await sorter.add(entry(1, BASE + 5n), 1);
    await sorter.add(entry(0, BASE + 3n), 0);
    const again: number[] = [];
    for await (const { tag } of sorter.drain()) again.push(tag);
    assert.deepEqual(again, [0, 1]);
    await sorter.dispose();
    assert.deepEqual(await readdir(dir), []);
  });

  it('input already in time order is spilled as one chain of runs and read back without a merge', async () => {
    const n = 2_000;
    const sorter = new TimeSorter({ budgetBytes: 10 * 1024, dir, fanIn: 4 });
    for (let i = 0; i < n; i++) await sorter.add(entry(i, BASE + BigInt(i) * 1_000_000_000n), i);
    assert.ok(sorter.spilledRuns > 4, `${sorter.spilledRuns} runs (more than the fan-in)`);
    const out: number[] = [];
    for await (const { tag } of sorter.drain()) out.push(tag);
    assert.deepEqual(out, Array.from({ length: n }, (_, i) => i));
    // One run held, plus one head for the single chain: no fan-in merge, no merge of many runs.
    assert.ok(sorter.peakInMemory <= 72 + 1, `peak ${sorter.peakInMemory} entries in memory`);
    await sorter.dispose();
    assert.deepEqual(await readdir(dir), []);
  });

  it('with a slack, nearly ordered input comes out with no entry more than the slack older than any before it, unmerged', async () => {
    const n = 3_000;
    const slackNs = 60_000_000_000n;
    const sorter = new TimeSorter({ budgetBytes: 10 * 1024, dir, fanIn: 4, orderSlackNs: slackNs });
    // One entry a second, each off by up to ±25 s: not sorted, but never a minute behind.
    let s = 11;
    const times = new Map<number, bigint>();
    for (let i = 0; i < n; i++) {
      s = (s * 1_103_515_245 + 12_345) % 2 ** 31;
      const ts = BASE + BigInt(i) * 1_000_000_000n + BigInt((s % 50_001) - 25_000) * 1_000_000n;
      times.set(i, ts);
      await sorter.add(entry(i, ts), i);
    }
    const seen = new Set<number>();
    let newest = 0n;
    let behind = 0;
    for await (const { entry: e, tag } of sorter.drain()) {
      assert.equal(e.timestampNs, times.get(tag));
      if (e.timestampNs < newest) behind += 1;
      assert.ok(e.timestampNs >= newest - slackNs, `entry ${tag} more than the slack behind`);
      if (e.timestampNs > newest) newest = e.timestampNs;
      seen.add(tag);
    }
    assert.equal(seen.size, n);
    assert.ok(behind > 0, 'the input was not simply sorted again');
    assert.ok(sorter.peakInMemory <= 72 + 1, `peak ${sorter.peakInMemory} entries in memory (one chain)`);
    await sorter.dispose();
  });

  it('keeps an entry larger than its read buffer whole through a spilled run', async () => {
    const sorter = new TimeSorter({ budgetBytes: 64 * 1024, dir });
    const big = { ...entry(3, BASE + 3n), line: `msg="${'é'.repeat(400_000)}"` };
    const input = [entry(5, BASE + 5n), big, entry(1, BASE + 1n), entry(4, BASE + 4n), entry(2, BASE + 2n)];
    for (const [i, e] of input.entries()) await sorter.add(e, i);
    assert.ok(sorter.spilledRuns >= 1);
    const out: Entry[] = [];
    for await (const { entry: e } of sorter.drain()) out.push(e);
    assert.deepEqual(out, [...input].sort((a, b) => (a.timestampNs < b.timestampNs ? -1 : 1)));
    await sorter.dispose();
  });
});
