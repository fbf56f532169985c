import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TABLE_LINES } from '../../dashboards/src/definitions.js';
import { lokiDashboardQueries, lokiRuleQueries } from './queries.js';
import { BUSY_WEEK, distinctSeries, generateWeek, seriesLimitProblems, seriesSteps } from './series-limit.js';
import { substitute, type Values } from './substitute.js';

/** What Grafana puts in with every filter on All, the widest a query gets; a week as the range. */
const ALL: Values = {
  job: 'kube-event-shipper',
  cluster: '.*',
  namespace: '.*',
  kind: '.*',
  reason: '.*',
  type: '.*',
  search: '',
  object: '.*',
  object_match: '=~',
  __interval: '1h',
  __rate_interval: '2h',
  __range: '7d',
  __auto: '1h',
};

describe("Loki's series limit (max_query_series 500) on a generated busy week", () => {
  const week = generateWeek();

  it('has 100,000 distinct events over 7 days, in 150 namespaces on 300 nodes', () => {
    assert.equal(week.length, BUSY_WEEK.events);
    assert.equal(distinctSeries(week, ['event_uid']), 100_000);
    assert.equal(distinctSeries(week, ['namespace']), 151, '150 namespaces and _cluster (nodes)');
    assert.ok(distinctSeries(week, ['object_name', 'namespace', 'kind']) > 20_000, 'tens of thousands of objects');
    const times = week.map((e) => Number(e['time']));
    assert.ok(Math.max(...times) - Math.min(...times) > 6.9 * 86_400_000);
  });

  describe('the model', () => {
    const cases: [string, string, boolean][] = [
      // measured on Loki 3.2.2 (fixtures README): answers with 38 series over a day of 20k events
      ['a sum by reason over an unwrap of every entry fits', 'sum by (reason) (sum_over_time({job="kube-event-shipper"} | logfmt count | unwrap count [7d]))', true],
      // measured: fails once the range holds more than 500 events
      ['a per-event maximum fails', 'sum(max_over_time({job="kube-event-shipper"} | logfmt | unwrap count [7d]) by (event_uid))', false],
      [
        'the former occurrence formulation (per-event maxima, subtracted) fails',
        'sum by (reason) ((max_over_time({job="kube-event-shipper"} | logfmt | unwrap count [1h]) by (event_uid, reason) - max_over_time({job="kube-event-shipper"} | logfmt | unwrap count [1h]) by (event_uid, reason)) or (max_over_time({job="kube-event-shipper"} | logfmt | unwrap count [1h]) by (event_uid, reason)))',
        false,
      ],
      ['a top 20 of objects still builds a series per object first, and fails', 'topk(20, sum by (namespace, kind, object_name) (count_over_time({job="kube-event-shipper", type="Warning"} [7d])))', false],
      ['an unwrap with no aggregation keeps every entry apart, and fails', 'sum_over_time({job="kube-event-shipper"} | unwrap occurrences [7d])', false],
      ['a grouping by namespace and reason with every reason fails on 150 namespaces', 'sum by (namespace, reason) (count_over_time({job="kube-event-shipper"} [7d]))', false],
      ['a grouping by namespace fits', 'sum by (namespace) (count_over_time({job="kube-event-shipper"} [7d]))', true],
      ['a selector narrows what is grouped: namespace and reason among three reasons fits', 'sum by (namespace, reason) (count_over_time({job="kube-event-shipper", reason=~"Evicted|Preempted|TaintManagerEviction"} [7d]))', true],
    ];
    for (const [name, expr, fits] of cases) {
      it(name, () => {
        assert.ok(seriesSteps(expr, week).length > 0, 'the query has aggregation steps');
        assert.equal(seriesLimitProblems(expr, week).length === 0, fits, seriesLimitProblems(expr, week).join('\n') || 'fits');
      });
    }
  });

  it('holds for every metric query of the dashboards, with every filter on All over 7 days', () => {
    const problems: string[] = [];
    let checked = 0;
    for (const { where, expr, metric } of lokiDashboardQueries()) {
      if (!metric) continue;
      for (const lineFormat of ['logfmt', 'json']) {
        checked += 1;
        for (const p of seriesLimitProblems(substitute(expr, { ...ALL, line_format: lineFormat }), week)) problems.push(`${where}: ${p}`);
      }
    }
    assert.ok(checked > 30);
    assert.deepEqual(problems, []);
  });

  it('holds for every Loki rule', () => {
    const problems: string[] = [];
    const rules = lokiRuleQueries();
    assert.ok(rules.length >= 10);
    for (const { where, expr } of rules) for (const p of seriesLimitProblems(expr, week)) problems.push(`${where}: ${p}`);
    assert.deepEqual(problems, []);
  });

  it('lists objects and nodes only from log queries of a bounded number of lines', () => {
    const tables = lokiDashboardQueries().filter((q) => /object|node|pods/i.test(q.where) && !q.metric && /Built in the browser/.test(q.description));
    assert.ok(tables.length >= 5, `only ${String(tables.length)} tables`);
    assert.ok(TABLE_LINES <= 5000, "within Loki's default max_entries_limit_per_query");
  });
});
