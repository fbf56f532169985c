import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkLabelValuesQuery, checkLogql } from './logql.js';
import { checkPromql, parseExposition, promqlNames } from './promql.js';
import { substitute } from './substitute.js';

const problemsOf = (expr: string): string[] => checkLogql(expr).map((p) => p.problem);

describe('the LogQL check', () => {
  const cases: [string, string, RegExp | null][] = [
    ['a query on stream labels and metadata passes', 'sum by (reason) (count_over_time({job="kube-event-shipper", namespace=~".*"} | object_name="web" [5m]))', null],
    ['counting from the parsed count field passes', 'sum(max_over_time({job="x"} | logfmt count="count", event_uid="event_uid" | unwrap count | __error__="" [1h]) by (event_uid))', null],
    ['a syntax error is reported', '{job="x" | logfmt', /syntax error/],
    ['two groupings on one aggregation are reported', 'sum by (reason) (count_over_time({job="x"}[5m])) by (kind)', /syntax error/],
    ['a selector on a label the shipper does not emit is reported', '{job="x", pod="web"}', /"pod", not a stream label/],
    ['selecting by structured metadata is reported', '{job="x", object_name="web"}', /"object_name", not a stream label/],
    ['a filter on a field the shipper does not write is reported', '{job="x"} | logfmt | severity="high"', /"severity"/],
    ['extracting an unknown line key is reported', '{job="x"} | logfmt restarts="restart_count"', /"restart_count"/],
    ['grouping by an unknown label is reported', 'sum by (pod) (count_over_time({job="x"}[5m]))', /"pod"/],
    ['line_format reading an unknown field is reported', '{job="x"} | logfmt | line_format "{{.message}}"', /"message"/],
    ['a template variable left over is reported', '{job="$job"}', /template variable/],
    ['label_format setting a field from fields the shipper writes passes', '{job="x"} | label_format event_uid=`{{ or .event_uid "none" }}`', null],
    ['label_format setting an unknown label is reported', '{job="x"} | label_format severity=`{{ .type }}`', /label_format sets "severity"/],
    ['label_format reading an unknown field is reported', '{job="x"} | label_format event_uid=`{{ or .uid "1" }}`', /label_format reads "uid"/],
  ];
  for (const [name, expr, expected] of cases) {
    it(name, () => {
      const problems = problemsOf(expr);
      if (expected === null) assert.deepEqual(problems, []);
      else assert.ok(problems.some((p) => expected.test(p)), `expected ${String(expected)} in ${JSON.stringify(problems)}`);
    });
  }

  it('checks the selector and label of a label_values variable query', () => {
    assert.deepEqual(checkLabelValuesQuery('label_values({job="x"}, namespace)'), []);
    assert.ok(checkLabelValuesQuery('label_values({job="x"}, pod)').some((p) => /"pod"/.test(p.problem)));
    assert.ok(checkLabelValuesQuery('namespace').some((p) => /not label_values/.test(p.problem)));
  });
});

describe('the PromQL check', () => {
  const scrape = parseExposition(
    [
      '# HELP kube_event_shipper_events_dropped_total d',
      '# TYPE kube_event_shipper_events_dropped_total counter',
      'kube_event_shipper_events_dropped_total{reason="malformed"} 0',
      '# HELP kube_event_shipper_push_duration_seconds d',
      '# TYPE kube_event_shipper_push_duration_seconds histogram',
      'kube_event_shipper_push_duration_seconds_bucket{le="0.005"} 0',
      '# HELP kube_event_shipper_push_requests_total d',
      '# TYPE kube_event_shipper_push_requests_total counter',
      '',
    ].join('\n'),
  );
  const prefix = 'kube_event_shipper_';

  it('reads metric names past functions, aggregations, groupings and matchers', () => {
    const names = promqlNames('histogram_quantile(0.9, sum by (le) (rate(kube_event_shipper_push_duration_seconds_bucket{job=~"a|b"}[5m]))) > bool 1');
    assert.deepEqual(names.metrics, ['kube_event_shipper_push_duration_seconds_bucket']);
    assert.deepEqual(names.groupingLabels, ['le']);
    assert.deepEqual(names.matcherLabels.get('kube_event_shipper_push_duration_seconds_bucket'), ['job']);
  });

  it('accepts exported metrics with their labels', () => {
    assert.deepEqual(checkPromql('sum by (reason) (increase(kube_event_shipper_events_dropped_total{reason!="malformed", job="x"}[5m]))', scrape, prefix), []);
  });

  it('accepts a declared metric that has no sample yet', () => {
    assert.deepEqual(checkPromql('sum by (status_code) (rate(kube_event_shipper_push_requests_total[5m]))', scrape, prefix), []);
  });

  it('reports a metric the shipper does not export', () => {
    assert.ok(checkPromql('rate(kube_event_shipper_events_lost_total[5m])', scrape, prefix).some((p) => /not in the \/metrics scrape/.test(p)));
    assert.ok(checkPromql('up == 0', scrape, prefix).some((p) => /not one of the shipper's metrics/.test(p)));
  });

  it('reports a matcher or grouping on a label the metric does not have', () => {
    assert.ok(checkPromql('kube_event_shipper_events_dropped_total{cause="x"}', scrape, prefix).some((p) => /no label "cause"/.test(p)));
    assert.ok(checkPromql('sum by (cause) (kube_event_shipper_events_dropped_total)', scrape, prefix).some((p) => /groups by "cause"/.test(p)));
  });
});

describe('substitute', () => {
  it('replaces $name and ${name} forms, longest names first', () => {
    assert.equal(substitute('{a="$job", b="${job}", c="$jobs"} [$__rate_interval] [$__range]', { job: 'j', jobs: 'J', __rate_interval: '2m', __range: '1h' }), '{a="j", b="j", c="J"} [2m] [1h]');
  });
});
