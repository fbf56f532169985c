import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parser } from '@grafana/lezer-logql';
import { HIGH_CARDINALITY_FIELDS } from '../../src/transform/index.js';
import { occurrences } from '../../dashboards/src/definitions.js';
import { OCCURRENCES_FIELD } from '../../dashboards/src/families.js';
import { lokiDashboardQueries, lokiRuleQueries } from './queries.js';

// Occurrence panels sum the structured metadata `occurrences` (what each entry adds to the event's
// count), so no query needs one series per event; these tests hold every dashboard and rule query
// to that.

/** Labels of every `by (…)` in a LogQL expression. */
function groupings(expr: string): string[] {
  const labels: string[] = [];
  parser.parse(expr).iterate({
    enter(node) {
      if (node.name !== 'Grouping') return;
      node.node.cursor().iterate((inner) => void (inner.name === 'Identifier' ? labels.push(expr.slice(inner.from, inner.to)) : undefined));
    },
  });
  return labels;
}

describe('occurrence queries', () => {
  const queries = [...lokiDashboardQueries(), ...lokiRuleQueries()];

  it('are sums of the occurrences field grouped by stream labels, with entries lacking it counted as one', () => {
    assert.equal(OCCURRENCES_FIELD, '| label_format occurrences=`{{ or .occurrences "1" }}`');
    assert.equal(
      occurrences('{a="b"} |= "x"', ['reason'], '$__interval'),
      'sum by (reason) (sum_over_time({a="b"} |= "x" | label_format occurrences=`{{ or .occurrences "1" }}` | unwrap occurrences | __error__="" [$__interval]))',
    );
    assert.equal(occurrences('{a="b"}', [], '$__range'), 'sum(sum_over_time({a="b"} | label_format occurrences=`{{ or .occurrences "1" }}` | unwrap occurrences | __error__="" [$__range]))');
  });

  it('never group by a per-event or per-object field (event_uid, object_name, node, count, …)', () => {
    assert.ok(queries.length > 30, `only ${String(queries.length)} queries`);
    const perEvent = new Set<string>(HIGH_CARDINALITY_FIELDS);
    for (const field of ['event_uid', 'object_uid', 'object_name', 'node']) assert.ok(perEvent.has(field), field);
    for (const { where, expr } of queries) {
      for (const label of groupings(expr)) assert.ok(!perEvent.has(label), `${where} groups by ${label}: ${expr}`);
    }
  });

  it('count occurrences, not lines, in every panel that says so', () => {
    const counted = lokiDashboardQueries().filter((q) => q.metric && q.description.includes('Occurrences are the sum'));
    assert.ok(counted.length >= 15, `only ${String(counted.length)}`);
    for (const { where, expr } of counted) {
      assert.match(expr, /\| unwrap occurrences \| __error__=""/, `${where} sums the occurrences field`);
      assert.doesNotMatch(expr, /unwrap count\b/, `${where} does not sum the cumulative count`);
    }
  });
});
