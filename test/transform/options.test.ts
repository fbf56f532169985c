import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/core/errors.js';
import { DEFAULT_TRANSFORM_OPTIONS, resolveTransformOptions, type TransformOptionsInput } from '../../src/transform/index.js';

describe('transform options', () => {
  it('the defaults label namespace, reason, type, kind and source, with job=kube-event-shipper', () => {
    const options = resolveTransformOptions({});
    assert.deepEqual(options, DEFAULT_TRANSFORM_OPTIONS);
    assert.deepEqual(options.labels, ['namespace', 'reason', 'type', 'kind', 'source']);
    assert.deepEqual(options.staticLabels, { job: 'kube-event-shipper' });
    assert.equal(options.lineFormat, 'logfmt');
    assert.equal(options.structuredMetadata, true);
    assert.equal(options.maxMessageBytes, 32 * 1024);
    assert.equal(options.acceptWindowMs, 6 * 24 * 3600 * 1000);
  });

  it('a subset of event labels and extra static labels are accepted', () => {
    const options = resolveTransformOptions({ labels: ['namespace', 'reason'], staticLabels: { cluster: 'prod-eu', job: 'events' }, lineFormat: 'json' });
    assert.deepEqual(options.labels, ['namespace', 'reason']);
    assert.deepEqual(options.staticLabels, { cluster: 'prod-eu', job: 'events' });
    assert.equal(options.lineFormat, 'json');
  });

  const refused: readonly [string, TransformOptionsInput, RegExp][] = [
    ['the object name as a label is refused as high-cardinality', { labels: ['namespace', 'name'] }, /"name" has a value per object or event/],
    ['the uid as a label is refused as high-cardinality', { labels: ['uid'] }, /"uid" has a value per object/],
    ['the node as a label is refused as high-cardinality', { labels: ['node'] }, /"node" has a value per object/],
    ['the message as a label is refused as high-cardinality', { labels: ['message'] }, /"message" has a value per object/],
    ['the host as a label is refused as high-cardinality', { labels: ['host'] }, /"host" has a value per object/],
    ['an unknown event label is refused', { labels: ['colour'] }, /"colour" is not an event label/],
    ['a label listed twice is refused', { labels: ['reason', 'reason'] }, /listed twice/],
    ['a static label with an invalid name is refused', { staticLabels: { 'my-cluster': 'a' } }, /not a valid Loki label name/],
    ['a static label starting with a digit is refused', { staticLabels: { '1x': 'a' } }, /not a valid Loki label name/],
    ['a static label with a reserved name is refused', { staticLabels: { __name__: 'a' } }, /reserves/],
    ['a static label that clashes with an event label is refused', { staticLabels: { namespace: 'x' } }, /clashes with the event label/],
    ['a static label with an empty value is refused', { staticLabels: { cluster: '' } }, /empty value/],
    ['a static label value over 1024 bytes is refused', { staticLabels: { cluster: 'x'.repeat(1025) } }, /longer than 1024 bytes/],
    [
      'more than 15 label names in total are refused',
      { staticLabels: Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`l${i}`, 'v'])) },
      /5 event labels \+ 11 static labels exceed Loki's limit of 15/,
    ],
    ['an unknown line format is refused', { lineFormat: 'xml' }, /"xml" is not one of logfmt, json/],
    ['a message limit below 256 bytes is refused', { maxMessageBytes: 10 }, /max message bytes: 10/],
    ['a message limit above 128 KiB is refused', { maxMessageBytes: 300_000 }, /max message bytes: 300000/],
    ['an accept window under an hour is refused', { acceptWindowMs: 60_000 }, /shorter than 1h/],
  ];
  for (const [name, input, message] of refused) {
    it(name, () => {
      assert.throws(() => resolveTransformOptions(input), (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.equal(err.code, 'E_CONFIG');
        assert.match(err.message, message);
        assert.doesNotMatch(err.message, /\n/);
        return true;
      });
    });
  }

  it('a static label may reuse the name of an event label that is not a label', () => {
    const options = resolveTransformOptions({ labels: ['namespace'], staticLabels: { type: 'k8s' } });
    assert.deepEqual(options.staticLabels, { type: 'k8s' });
  });

  it('service_name does not count towards the 15, as in Loki', () => {
    const staticLabels = { ...Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`l${i}`, 'v'])), service_name: 'events' };
    assert.equal(Object.keys(resolveTransformOptions({ staticLabels }).staticLabels).length, 11);
  });

  it('exactly 15 label names are accepted', () => {
    const staticLabels = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`l${i}`, 'v']));
    assert.equal(Object.keys(resolveTransformOptions({ staticLabels }).staticLabels).length, 10);
  });
});
