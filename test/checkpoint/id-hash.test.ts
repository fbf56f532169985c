import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { keyFromBytes, keyOf, legacyKeyOf, writeKey } from '../../src/checkpoint/id-hash.js';

const hex = (key: string): string => {
  const buf = Buffer.alloc(8);
  writeKey(key, buf, 0);
  return buf.toString('hex');
};

describe('the hash of ids and uids in the checkpoint', () => {
  // The first 8 bytes of MurmurHash3_x86_128 (seed 0) of each string's UTF-16LE bytes, from an
  // independent implementation (Python's mmh3 5.3.0: mmh3.hash_bytes(s.encode('utf-16-le'), 0, False)[:8]).
  // A checkpoint written by one version must mean the same to the next: these never change.
  const REFERENCE: readonly (readonly [string, string])[] = [
    ['', '0000000000000000'],
    ['a', '96b13b03e14fefcc'],
    ['ab', '53b90f26fdb622af'],
    ['abc', 'a3975b2bb55ff720'],
    ['abcd', 'c782ef95a29aece4'],
    ['abcdefg', '5ede1f85ab9a1af8'],
    ['abcdefgh', '5576356ca198f88d'],
    ['abcdefghi', '32d7a31786e4ee37'],
    ['abc:1:17', 'c0ecc42f0fe90e00'],
    ['0123456789abcdef0123', '073ecca452aa560d'],
    ['00000000-0000-4000-8000-000000019999:2000019999:1795688199123456789', 'dd4c83763e05e503'],
    ['é☃𝄞x', '15f428868d73940a'],
    ['abcdefghijklmno', '53382a6d1251127f'],
    ['abcdefghijklmnop', '55e632a118b4e323'],
  ];
  for (const [input, expected] of REFERENCE) {
    it(`is MurmurHash3 x86_128's first 8 bytes for ${JSON.stringify(input)}`, () => {
      assert.equal(hex(keyOf(input)), expected);
    });
  }

  it('reads back the bytes it writes', () => {
    const buf = Buffer.alloc(16);
    const key = keyOf('uid-1:2:3');
    writeKey(key, buf, 8);
    assert.equal(keyFromBytes(buf, 8), key);
  });

  it('keeps version 1\'s key: the first 8 bytes of SHA-256 of the UTF-8 string', () => {
    for (const s of ['uid-1:2:3', 'é☃𝄞x']) assert.equal(hex(legacyKeyOf(s)), createHash('sha256').update(s).digest().subarray(0, 8).toString('hex'));
  });

  it('gives distinct keys to the ids of one event occurrence after another', () => {
    const seen = new Set<string>();
    for (let count = 1; count <= 50_000; count++) seen.add(keyOf(`7e0d0a6b-2c4e-4f55-9a1b-0c6f2d3e4a5b:${count}:${1795688199123456789n + BigInt(count)}`));
    assert.equal(seen.size, 50_000);
  });
});
