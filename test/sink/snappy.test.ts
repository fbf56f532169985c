import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import snappy from 'snappyjs';
import { encodePushRequestFromEncoded } from '../../src/sink/loki/codec.js';
import { PushBodyEncoder } from '../../src/sink/loki/batch.js';
import { maxCompressedLength, SnappyCompressor } from '../../src/sink/loki/snappy.js';

/** Text shaped like pushes: repeated words and labels (long matches), random runs (literals) between. */
const pushLike = fc
  .array(fc.oneof(fc.constantFrom('namespace=team-a ', 'reason=BackOff ', '{job="kes", type="Normal"}', 'x'.repeat(100)), fc.string({ unit: 'binary', maxLength: 80 })), { maxLength: 400 })
  .map((parts) => Buffer.from(parts.join(''), 'utf8'));

describe('the snappy compressor', () => {
  it('whatever the input, snappyjs decompresses what it makes back to the input, within the worst-case length', () => {
    const compressor = new SnappyCompressor();
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 3_000 }), pushLike), (input) => {
        const compressed = compressor.compress(input);
        assert.ok(compressed.length <= maxCompressedLength(input.length));
        assert.deepEqual(Buffer.from(snappy.uncompress(compressed)), Buffer.from(input));
      }),
      { numRuns: 300 },
    );
  });

  it('inputs over several 64 KiB fragments, and a smaller one after a larger one on the same compressor, round-trip', () => {
    const compressor = new SnappyCompressor();
    const word = (i: number): string => `entry ${i % 977} reason=${['Pulled', 'Started', 'BackOff'][i % 3]} `;
    const large = Buffer.from(Array.from({ length: 40_000 }, (_, i) => word(i)).join(''));
    assert.ok(large.length > 3 * 65_536);
    const small = Buffer.from('a'.repeat(70) + 'tail');
    for (const input of [large, small, Buffer.alloc(0), Buffer.from('abc'), large.subarray(1, 65_537 + 20)]) {
      assert.deepEqual(Buffer.from(snappy.uncompress(compressor.compress(input))), input);
    }
  });

  it('compresses repetitive text as well as snappyjs (same algorithm)', () => {
    const text = Buffer.from(Array.from({ length: 5_000 }, (_, i) => `kind=Pod namespace=team-${i % 6} name=web-${i.toString(36)} reason=Pulled msg="already present"\n`).join(''));
    const ours = new SnappyCompressor().compress(text).length;
    const theirs = snappy.compress(text).length;
    assert.ok(ours <= theirs * 1.02, `${ours} bytes vs snappyjs ${theirs}`);
    assert.ok(ours < text.length / 4);
  });

  it('a push body encoder reusing its space across batches of any size makes the bodies of fresh encodes', () => {
    const encoder = new PushBodyEncoder();
    const stream = fc.record({ labels: fc.string(), entries: fc.array(fc.string({ unit: 'binary-ascii', maxLength: 2_000 }), { maxLength: 20 }) });
    fc.assert(
      fc.property(fc.array(fc.array(stream, { maxLength: 4 }), { minLength: 1, maxLength: 6 }), (batches) => {
        for (const streams of batches) {
          const body = encoder.encode(streams);
          assert.deepEqual(Buffer.from(snappy.uncompress(body)), Buffer.from(encodePushRequestFromEncoded(streams)));
        }
      }),
      { numRuns: 100 },
    );
  });
});
