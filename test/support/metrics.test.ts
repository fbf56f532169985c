import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMetrics } from '../../src/observe/metrics.js';
import { metricValue, parseMetrics, parseSelector, readMetrics } from './metrics.js';

const TEXT = [
  '# HELP demo_total d',
  '# TYPE demo_total counter',
  'demo_total{reason="a"} 2',
  'demo_total{reason="b",code="5\\"0\\n"} 3',
  '# TYPE demo_seconds histogram',
  'demo_seconds_bucket{le="+Inf"} 4',
  'demo_seconds_count 4',
  'plain 7',
  '',
].join('\n');

describe('the metric reader', () => {
  const samples = parseMetrics(TEXT);

  it('reads one value by name and labels (a subset), or by a name{labels} selector', () => {
    assert.equal(samples.value('demo_total', { reason: 'a' }), 2);
    assert.equal(samples.value('demo_total{reason="b"}'), 3);
    assert.equal(samples.value('demo_total', { code: '5"0\n' }), 3, 'escapes in label values are undone');
    assert.equal(samples.value('plain'), 7);
    assert.equal(samples.value('demo_seconds_bucket', { le: '+Inf' }), 4);
  });

  it('throws when no sample or several match, so a value read is never a guess', () => {
    assert.throws(() => samples.value('demo_total'), /found 2/);
    assert.throws(() => samples.value('demo_total', { reason: 'c' }), /found 0/);
    assert.throws(() => samples.value('missing'), /found 0/);
  });

  it('sums and tests for presence', () => {
    assert.equal(samples.sum('demo_total'), 5);
    assert.equal(samples.sum('missing'), 0);
    assert.equal(samples.has('demo_total{reason="a"}'), true);
    assert.equal(samples.has('demo_total{reason="c"}'), false);
  });

  it('keeps each family\'s type and refuses a line that is not a sample', () => {
    assert.equal(samples.types.get('demo_seconds'), 'histogram');
    assert.throws(() => parseMetrics('demo_total{reason="a"}'), /not a Prometheus sample line/);
  });

  it('parses selectors', () => {
    assert.deepEqual(parseSelector('x_total'), { name: 'x_total', labels: {} });
    assert.deepEqual(parseSelector('x_total{a="1",b="2"}'), { name: 'x_total', labels: { a: '1', b: '2' } });
  });

  it('reads what a registry renders', async () => {
    const metrics = createMetrics({ version: 'test' });
    metrics.eventsShipped.inc(4);
    assert.equal(await metricValue(metrics, 'kube_event_shipper_events_shipped_total'), 4);
    assert.equal((await readMetrics(metrics.registry)).value('kube_event_shipper_build_info', { version: 'test' }), 1);
  });
});
