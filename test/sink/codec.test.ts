import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import snappy from 'snappyjs';
import { encodeEntry, encodePushBody, encodePushRequest, encodePushRequestFromEncoded, EntryWriter, type PushStream } from '../../src/sink/loki/codec.js';
import { decodePushBody, decodePushRequest } from '../../src/sink/loki/push-decode.js';
import { PushDecodeError } from '../../src/sink/loki/errors.js';
import { decodeWithProto } from '../fakes/loki-receiver.js';
import { fixturePath, readFixtureJson } from '../support/fixtures.js';

interface TwinJson {
  streams: { labels: string; entries: { ts: string; line: string; structuredMetadata?: Record<string, string> }[] }[];
}

const FIXTURES = ['loki-push/promtail-60-events-45-streams', 'loki-push/promtail-500-entries-1-stream'];

function twinStreams(name: string): PushStream[] {
  const twin = readFixtureJson(`${name}.json`) as TwinJson;
  return twin.streams.map((s) => ({
    labels: s.labels,
    entries: s.entries.map((e) => ({ timestampNs: BigInt(e.ts), line: e.line, structuredMetadata: e.structuredMetadata ?? {} })),
  }));
}

/** Comparable form: bigint timestamps as strings, metadata as ordered pairs. */
function plain(streams: readonly PushStream[]): unknown {
  return streams.map((s) => ({
    labels: s.labels,
    entries: s.entries.map((e) => ({ ts: e.timestampNs.toString(), line: e.line, md: Object.entries(e.structuredMetadata) })),
  }));
}

describe('push codec against bodies from promtail 3.2.2', () => {
  for (const name of FIXTURES) {
    const body = readFileSync(fixturePath(`${name}.bin`));

    it(`${name}.bin decodes to its JSON twin`, () => {
      assert.deepEqual(plain(decodePushBody(body)), plain(twinStreams(name)));
    });

    it(`our encoding of ${name}.json decodes back to the same content`, () => {
      const encoded = encodePushBody(twinStreams(name));
      assert.deepEqual(plain(decodePushBody(encoded)), plain(twinStreams(name)));
      assert.deepEqual(plain(decodeWithProto(encoded)), plain(twinStreams(name)), 'protobufjs reflection over push.proto agrees');
    });

    it(`our protobuf for ${name}.json is byte-identical to promtail's`, () => {
      const promtail = Buffer.from(snappy.uncompress(body));
      assert.equal(Buffer.compare(Buffer.from(encodePushRequest(twinStreams(name))), promtail), 0);
    });
  }
});

describe('push codec', () => {
  it('nanosecond timestamps survive exactly, before and after 1970', () => {
    const stamps = [0n, 1n, 999_999_999n, 1_795_688_199_123_456_836n, -1n, -1_500_000_000n, 9_223_372_036_854_775_807n];
    const streams: PushStream[] = [{ labels: '{a="b"}', entries: stamps.map((timestampNs) => ({ timestampNs, line: 'x', structuredMetadata: {} })) }];
    const decoded = decodePushBody(encodePushBody(streams));
    assert.deepEqual(decoded[0]?.entries.map((e) => e.timestampNs), stamps);
    assert.deepEqual(decodeWithProto(encodePushBody(streams))[0]?.entries.map((e) => e.timestampNs), stamps);
  });

  it('any streams round-trip through our encoder and both decoders', () => {
    const text = fc.string({ unit: 'grapheme', maxLength: 40 });
    const entry = fc.record({
      timestampNs: fc.bigInt({ min: 0n, max: 4_000_000_000_000_000_000n }),
      line: text,
      structuredMetadata: fc.dictionary(fc.string({ minLength: 1, maxLength: 10 }), text, { maxKeys: 3 }),
    });
    const stream = fc.record({ labels: text, entries: fc.array(entry, { maxLength: 5 }) });
    fc.assert(
      fc.property(fc.array(stream, { maxLength: 5 }), (streams) => {
        const body = encodePushBody(streams);
        assert.deepEqual(plain(decodePushBody(body)), plain(streams));
        assert.deepEqual(plain(decodeWithProto(body)), plain(streams));
      }),
      { numRuns: 200 },
    );
  });

  it('entries encoded one by one (as the sink holds them) make the same request bytes as the entries themselves', () => {
    const text = fc.string({ unit: 'binary' });
    const entry = fc.record({ timestampNs: fc.bigInt({ min: -(2n ** 62n), max: 2n ** 62n }), line: text, structuredMetadata: fc.dictionary(text, text, { maxKeys: 4 }) });
    const stream = fc.record({ labels: text, entries: fc.array(entry, { maxLength: 5 }) });
    fc.assert(
      fc.property(fc.array(stream, { maxLength: 5 }), (streams) => {
        const held = streams.map((s) => ({ labels: s.labels, entries: s.entries.map((e) => encodeEntry(e).toString('latin1')) }));
        assert.deepEqual(Buffer.from(encodePushRequestFromEncoded(held)), Buffer.from(encodePushRequest(streams)));
      }),
      { numRuns: 200 },
    );
  });

  it('the sink\'s one-pass entry writer makes the bytes encodeEntry makes, and measures the strings as Buffer.byteLength does', () => {
    const text = fc.string({ unit: 'binary' });
    // Short and long strings: a metadata name, value or pair from 128 bytes on takes the measuring path.
    const any = fc.oneof(text, fc.string({ minLength: 40, maxLength: 100 }), fc.string({ unit: 'binary', minLength: 40, maxLength: 200 }));
    const entry = fc.record({ timestampNs: fc.bigInt({ min: -(2n ** 62n), max: 2n ** 62n }), line: fc.oneof(text, fc.string({ unit: 'grapheme', maxLength: 3000 })), structuredMetadata: fc.dictionary(any, any, { maxKeys: 4 }) });
    // One writer for every run, as the sink keeps one: space left from a longer entry must not leak into a shorter one.
    const writer = new EntryWriter();
    fc.assert(
      fc.property(entry, (e) => {
        const written = writer.write(e);
        assert.equal(written, encodeEntry(e).toString('latin1'));
        assert.equal(writer.lineBytes, Buffer.byteLength(e.line));
        const pairs = Object.entries(e.structuredMetadata);
        assert.equal(writer.metadataCount, pairs.length);
        assert.equal(writer.metadataBytes, pairs.reduce((sum, [name, value]) => sum + Buffer.byteLength(name) + Buffer.byteLength(value), 0));
      }),
      { numRuns: 500 },
    );
  });

  it('a body that is not snappy is refused with E_PUSH_DECODE', () => {
    assert.throws(() => decodePushBody(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x02])), (err: unknown) => err instanceof PushDecodeError && err.code === 'E_PUSH_DECODE');
  });

  it('protobuf that overruns its length is refused with E_PUSH_DECODE', () => {
    // streams (field 1, length 10) with only two bytes behind it
    assert.throws(() => decodePushRequest(Buffer.from([0x0a, 0x0a, 0x0a, 0x00])), (err: unknown) => err instanceof PushDecodeError && err.code === 'E_PUSH_DECODE');
  });
});
