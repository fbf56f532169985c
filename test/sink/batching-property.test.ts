import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { Entry } from '../../src/core/entry.js';
import { formatLabels } from '../../src/sink/loki/labels.js';
import { BASE_NS, entry, startHarness } from './harness.js';

/** The sink's documented entry size: 16 + label string + line + metadata names and values. */
function sizeOf(e: Entry): number {
  const metadata = Object.entries(e.structuredMetadata).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
  return 16 + Buffer.byteLength(formatLabels(e.labels)) + Buffer.byteLength(e.line) + metadata;
}

const LABEL_SETS: readonly Record<string, string>[] = [{ job: 'kes', reason: 'A' }, { job: 'kes', reason: 'B' }, { job: 'kes', reason: 'C', type: 'Warning' }, { reason: 'A', job: 'kes' }];

describe('Loki sink batching, for any entries and limits', { timeout: 60_000 }, () => {
  it('every entry arrives exactly once, in acceptance order across batches, sorted by time within a stream, and batches keep their limits', async () => {
    const input = fc.record({
      batchMaxEntries: fc.integer({ min: 1, max: 12 }),
      batchMaxBytes: fc.integer({ min: 150, max: 2_500 }),
      items: fc.array(fc.record({ set: fc.integer({ min: 0, max: LABEL_SETS.length - 1 }), ts: fc.bigInt({ min: 0n, max: 50n }), length: fc.integer({ min: 0, max: 900 }) }), { minLength: 1, maxLength: 40 }),
    });
    await fc.assert(
      fc.asyncProperty(input, async ({ batchMaxEntries, batchMaxBytes, items }) => {
        const h = await startHarness({ sink: { batchMaxEntries, batchMaxBytes, batchMaxWaitMs: 1 } });
        try {
          const entries = items.map((item, i) => entry(i, { labels: LABEL_SETS[item.set] ?? {}, timestampNs: BASE_NS + item.ts, line: `#${i} ${'x'.repeat(item.length)}` }));
          for (const e of entries) await h.write(e);
          await h.sink.flush();
          const indexOf = (line: string): number => Number(line.slice(1, line.indexOf(' ')));

          const received = h.loki.entries().map((e) => indexOf(e.line));
          assert.deepEqual([...received].sort((a, b) => a - b), entries.map((_, i) => i), 'each entry exactly once');
          for (const e of entries) assert.deepEqual(h.outcomes.get(e.occurrenceId), [{ kind: 'delivered' }]);

          let previousMax = -1;
          for (const request of h.loki.requests) {
            const indexes = request.streams.flatMap((s) => s.entries.map((e) => indexOf(e.line)));
            assert.ok(indexes.length <= batchMaxEntries, 'entry limit');
            const bytes = indexes.reduce((n, i) => n + sizeOf(entries[i] as Entry), 0);
            assert.ok(indexes.length === 1 || bytes <= batchMaxBytes, 'byte limit, unless one entry alone');
            assert.ok(Math.min(...indexes) > previousMax, 'batches follow acceptance order');
            previousMax = Math.max(...indexes);
            assert.equal(new Set(request.streams.map((s) => s.labels)).size, request.streams.length, 'one stream per label set');
            for (const stream of request.streams) {
              const stamps = stream.entries.map((e) => e.timestampNs);
              assert.deepEqual(stamps, [...stamps].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)), 'sorted by time within the stream');
              for (const e of stream.entries) assert.equal(stream.labels, formatLabels(entries[indexOf(e.line)]?.labels ?? {}));
            }
          }
        } finally {
          await h.close();
        }
      }),
      { numRuns: 40 },
    );
  });
});
