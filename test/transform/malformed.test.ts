import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createTransformer, DEFAULT_TRANSFORM_OPTIONS, MALFORMED_REASONS, type MalformedReason } from '../../src/transform/index.js';
import { findWatchedEvent } from '../support/corpus.js';

const transformer = createTransformer(DEFAULT_TRANSFORM_OPTIONS, { now: () => Date.parse('2026-11-26T21:00:00Z') });

type Json = Record<string, unknown>;
const base = (): Json => structuredClone(findWatchedEvent('events/watch-core-v1.jsonl', 'web-5fc2ebc8c-36460.438ccadb9d5b3285')) as Json;
const baseEvents = (): Json => structuredClone(findWatchedEvent('events/watch-events.k8s.io-v1.jsonl', 'web-5fc2ebc8c-36460.438ccadb9d5b3285')) as Json;
const withField = (raw: Json, path: string, value: unknown): Json => {
  const keys = path.split('.');
  let target = raw;
  for (const key of keys.slice(0, -1)) target = target[key] as Json;
  const last = keys[keys.length - 1] ?? '';
  if (value === undefined) delete target[last];
  else target[last] = value;
  return raw;
};

const cases: readonly [string, unknown, MalformedReason, RegExp][] = [
  ['null is not an object', null, 'not_an_object', /got null/],
  ['a string is not an object', 'Event', 'not_an_object', /got a string/],
  ['an array is not an object', [base()], 'not_an_object', /got an array/],
  ['a number is not an object', 42, 'not_an_object', /got the number 42/],
  ['a Status object is not an event', { kind: 'Status', code: 410 }, 'not_an_event', /kind is "Status"/],
  ['an event without metadata is rejected', withField(base(), 'metadata', undefined), 'missing_metadata', /metadata is missing/],
  ['an event without a uid is rejected', withField(base(), 'metadata.uid', undefined), 'missing_metadata', /metadata.uid/],
  ['an event without a name is rejected', withField(base(), 'metadata.name', ''), 'missing_metadata', /metadata.name/],
  ['a core/v1 event without involvedObject is rejected', withField(base(), 'involvedObject', undefined), 'missing_involved_object', /involvedObject/],
  ['an events.k8s.io/v1 event without regarding is rejected', withField(baseEvents(), 'regarding', undefined), 'missing_involved_object', /regarding/],
  ['an involvedObject that is a string is rejected', withField(base(), 'involvedObject', 'Pod/web'), 'missing_involved_object', /involvedObject/],
  ['a reason that is a number is rejected', withField(base(), 'reason', 7), 'wrong_type', /reason is the number 7, not a string/],
  ['a message that is an object is rejected', withField(base(), 'message', { text: 'x' }), 'wrong_type', /message is an object, not a string/],
  ['a count that is a string is rejected', withField(base(), 'count', '3'), 'wrong_type', /count is a string, not a count/],
  ['a negative count is rejected', withField(base(), 'count', -1), 'wrong_type', /count/],
  ['a fractional count is rejected', withField(base(), 'count', 1.5), 'wrong_type', /count/],
  ['a series that is an array is rejected', withField(base(), 'series', []), 'wrong_type', /series is an array/],
  ['a source that is a string is rejected', withField(base(), 'source', 'kubelet'), 'wrong_type', /source is a string/],
  ['an object name that is a boolean is rejected', withField(base(), 'involvedObject.name', true), 'wrong_type', /involvedObject.name/],
  ['a lastTimestamp that is not RFC 3339 is rejected', withField(base(), 'lastTimestamp', 'yesterday'), 'invalid_timestamp', /lastTimestamp "yesterday"/],
  ['a timestamp on 30 February is rejected', withField(base(), 'lastTimestamp', '2026-02-30T00:00:00Z'), 'invalid_timestamp', /lastTimestamp/],
  ['a timestamp that is a number is rejected', withField(base(), 'eventTime', 1795690057), 'wrong_type', /eventTime/],
  [
    'an event without any time at all is rejected',
    withField(withField(withField(base(), 'firstTimestamp', null), 'lastTimestamp', null), 'metadata.creationTimestamp', undefined),
    'missing_timestamp',
    /no series.lastObservedTime/,
  ],
  ['a message with NUL bytes is rejected as binary', withField(base(), 'message', 'PNG\u0000\u0001\u0002'), 'binary_text', /message holds NUL/],
  ['a message with a lone surrogate is rejected as binary', withField(base(), 'message', 'bad \uD800 half'), 'binary_text', /message/],
  ['a reason with a lone low surrogate is rejected as binary', withField(base(), 'reason', '\uDC00x'), 'binary_text', /reason/],
  ['a message larger than anything etcd stores is rejected', withField(base(), 'message', 'x'.repeat(2 * 1024 * 1024 + 1)), 'message_too_large', /message has 2097153 bytes/],
  ['a 100 KB reason is rejected', withField(base(), 'reason', 'R'.repeat(100_000)), 'field_too_large', /reason has 100000 bytes/],
];

describe('malformed objects are rejected with a reason, never thrown', () => {
  for (const [name, raw, reason, detail] of cases) {
    it(name, () => {
      const result = transformer.normalize(raw);
      assert.equal(result.ok, false);
      assert.ok(!result.ok);
      assert.equal(result.reason, reason);
      assert.ok(MALFORMED_REASONS.includes(result.reason));
      assert.match(result.detail, detail);
    });
  }

  it('a message of 1 MB is not malformed: it is cut', () => {
    const raw = withField(base(), 'message', 'é'.repeat(500_000));
    const result = transformer.normalize(raw);
    assert.ok(result.ok);
    const entry = transformer.toEntry(result.event);
    assert.ok(Buffer.byteLength(entry.line) < 40_000);
    assert.match(entry.line, / …\[cut, 1000000 bytes\]" first_seen=/);
  });

  it('a message full of control characters is cut until the line fits Loki', () => {
    const wide = createTransformer({ ...DEFAULT_TRANSFORM_OPTIONS, maxMessageBytes: 128 * 1024 }, { now: () => 0 });
    const result = wide.normalize(withField(base(), 'message', '\u0001'.repeat(200_000)));
    assert.ok(result.ok);
    const line = wide.toEntry(result.event).line;
    assert.ok(Buffer.byteLength(line) <= 256 * 1024, String(Buffer.byteLength(line)));
    assert.match(line, /…\[cut, 200000 bytes\]/);
  });

  it('U+FFFD becomes ? so Loki parsers do not drop the value', () => {
    const result = transformer.normalize(withField(withField(base(), 'message', 'bad byte: \uFFFD'), 'reason', 'Odd\uFFFD'));
    assert.ok(result.ok);
    const entry = transformer.toEntry(result.event);
    assert.equal(entry.labels.reason, 'Odd?');
    assert.match(entry.line, /msg="bad byte: \?"/);
  });

  it('null, missing and empty optional fields are all fine', () => {
    const raw = withField(withField(withField(base(), 'source', null), 'reportingComponent', undefined), 'type', '');
    const result = transformer.normalize(withField(withField(raw, 'reason', null), 'count', 0));
    assert.ok(result.ok);
    const entry = transformer.toEntry(result.event);
    assert.equal(entry.labels.reason, '_none');
    assert.equal(entry.labels.type, '_none');
    assert.equal(entry.labels.source, '_none');
    assert.match(entry.line, / count=1 /);
  });

  it('a list item without kind and apiVersion is read as core/v1', () => {
    const raw = withField(withField(base(), 'kind', undefined), 'apiVersion', undefined);
    const result = transformer.normalize(raw);
    assert.ok(result.ok);
    assert.equal(result.event.api, 'core/v1');
  });

  it('an events.k8s.io/v1 list item without kind and apiVersion is recognised by regarding', () => {
    const raw = withField(withField(baseEvents(), 'kind', undefined), 'apiVersion', undefined);
    const result = transformer.normalize(raw);
    assert.ok(result.ok);
    assert.equal(result.event.api, 'events.k8s.io/v1');
    assert.equal(result.event.message, 'Successfully assigned payments/web-5fc2ebc8c-36460 to ip-10-0-1-23.ec2.internal');
  });
});
