import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { before, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { EXPORTED_METRIC_PREFIXES, METRIC_PREFIX } from '../../src/observe/metrics.js';
import { repoRoot } from '../support/fixtures.js';
import { durationMinutes, firingMinutes, legacyRecorderCadence, seriesRecorderCadence, type PresenceRule } from './cadence.js';
import { FAILURES } from '../../dashboards/src/families.js';
import { lokiRulesYaml } from '../../dashboards/src/rules.js';
import { checkLogql } from './logql.js';
import { checkPromql, parseExposition, promqlNames, type Scrape } from './promql.js';
import { scrapeShipperMetrics } from '../support/metrics.js';

interface Rule {
  readonly alert?: string;
  readonly record?: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
}
interface RuleFile {
  readonly groups: { readonly name: string; readonly interval?: string; readonly rules: Rule[] }[];
}

function loadRules(file: string): Rule[] {
  const parsed = parseYaml(readFileSync(resolve(repoRoot, 'deploy', 'rules', file), 'utf8')) as RuleFile;
  assert.ok(Array.isArray(parsed.groups) && parsed.groups.length > 0, `${file} has groups`);
  const groupNames = parsed.groups.map((g) => g.name);
  assert.equal(new Set(groupNames).size, groupNames.length, 'group names are unique');
  return parsed.groups.flatMap((g) => g.rules);
}

function ruleNamed(rules: readonly Rule[], alert: string): Rule {
  const rule = rules.find((r) => r.alert === alert);
  assert.ok(rule, `the rule ${alert} exists`);
  return rule;
}

/** Labels an annotation template reads (`{{ $labels.x }}`). */
const templateLabels = (rule: Rule): string[] =>
  Object.values(rule.annotations ?? {}).flatMap((text) => [...text.matchAll(/\$labels\.([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1] ?? ''));

function checkRuleShape(rule: Rule): void {
  assert.match(rule.alert ?? '', /^[A-Z][A-Za-z0-9]+$/, 'an alert name in CamelCase');
  assert.ok(['critical', 'warning', 'info'].includes(rule.labels?.['severity'] ?? ''), `${rule.alert ?? ''} has a severity`);
  assert.ok((rule.annotations?.['summary'] ?? '') !== '' && (rule.annotations?.['description'] ?? '') !== '', `${rule.alert ?? ''} has a summary and a description`);
  if (rule.for !== undefined) assert.match(rule.for, /^\d+[smh]$/);
}

/** Labels of the outermost `sum by` / `count by` of a LogQL rule. */
function outerGrouping(expr: string): string[] {
  return /\b(?:sum|count) by \(([^)]*)\)/.exec(expr)?.[1]?.split(',').map((s) => s.trim()) ?? [];
}

/** Window and `for` of a per-object presence rule; fails when the rule counts lines against a threshold. */
function presenceRule(rule: Rule): PresenceRule {
  const window = /\[(\d+[smh])\]\s*\)\s*\)\s*(>=?)\s*(\d+)/.exec(rule.expr);
  assert.ok(window, `${rule.alert ?? ''} compares count_over_time(...[W]) directly`);
  assert.deepEqual([window[2], window[3]], ['>', '0'], `${rule.alert ?? ''} alerts on presence (> 0), not on a line count the recorder's rate limit caps`);
  return { windowMinutes: durationMinutes(window[1] ?? ''), forMinutes: rule.for === undefined ? 0 : durationMinutes(rule.for) };
}

describe('deploy/rules/loki-rules.yaml', () => {
  const rules = loadRules('loki-rules.yaml');

  it('alerts on every failure family the dashboards show, with the dashboards\' own selectors', () => {
    const text = rules.map((r) => r.expr).join('\n');
    for (const [family, { matchers, line }] of Object.entries(FAILURES)) {
      const selector = `{${['job="kube-event-shipper"', ...matchers].join(', ')}}${line === '' ? '' : ` ${line}`}`;
      assert.ok(text.includes(selector), `a rule selects ${family} as ${selector}`);
    }
    const names = rules.map((r) => r.alert);
    assert.equal(new Set(names).size, names.length, 'alert names are unique');
  });

  it('groups every rule by cluster and job and otherwise only by namespace, kind or reason, never by object', () => {
    for (const rule of rules) {
      const grouped = outerGrouping(rule.expr);
      assert.deepEqual(grouped.slice(0, 2), ['cluster', 'job'], `${rule.alert ?? ''} keeps cluster and job`);
      for (const label of grouped.slice(2)) assert.ok(['namespace', 'kind', 'reason'].includes(label), `${rule.alert ?? ''} groups by ${label}`);
    }
  });

  it('counts evictions as occurrences per namespace', () => {
    const evicted = rules.find((r) => r.alert === 'KubePodsEvicted');
    assert.match(evicted?.expr ?? '', /sum by \(cluster, job, namespace\) \(\s*sum_over_time\(\{[^}]*reason=~"Evicted\|TaintManagerEviction"\} \| label_format occurrences=`\{\{ or \.occurrences "1" \}\}` \| unwrap occurrences \| __error__="" \[15m\]\)\s*\) >= 3/);
  });

  it('selects another job when generated for one (npm run dashboards -- --job NAME --out DIR)', () => {
    const other = lokiRulesYaml('events');
    assert.ok(!other.includes('job="kube-event-shipper"'));
    assert.equal(other.split('job="events"').length, lokiRulesYaml().split('job="kube-event-shipper"').length);
  });

  const presenceRules = rules.filter((r) => /\)\s*>\s*0\s*$/m.test(r.expr));
  it('alerts on presence (> 0) everywhere but the evictions', () => {
    assert.deepEqual(rules.filter((r) => !presenceRules.includes(r)).map((r) => r.alert), ['KubePodsEvicted']);
  });

  for (const rule of presenceRules) {
    const scheduler = rule.expr.includes('FailedScheduling');
    const cadence = scheduler ? seriesRecorderCadence(120) : legacyRecorderCadence(120);
    const name = scheduler ? "the scheduler's 30-minute series refresh" : "the legacy recorder's burst then one update per 5 minutes (fixture cadence)";
    it(`${rule.alert ?? '?'} fires and keeps firing while a problem persists at ${name}`, () => {
      const presence = presenceRule(rule);
      const last = cadence[cadence.length - 1] ?? 0;
      assert.ok(last > presence.forMinutes + 10, 'the cadence outlasts the rule\'s for: by far');
      const firing = firingMinutes(presence, cadence, last);
      const start = Math.ceil(presence.forMinutes);
      const expected = Array.from({ length: Math.floor(last) - start + 1 }, (_, i) => start + i);
      assert.deepEqual(firing, expected, 'firing from `for` after the first report until the last one, without a gap');
    });
    if (scheduler) {
      it(`${rule.alert ?? '?'} stays quiet for a pod scheduled a minute after its FailedScheduling, and fires for one left pending`, () => {
        const windows = [...rule.expr.matchAll(/\[(\d+[smh])\]/g)].map((m) => durationMinutes(m[1] ?? ''));
        assert.deepEqual(windows, [35, 35, 5], 'failed within 35m, scheduled within 35m, failed within 5m');
        const forMinutes = durationMinutes(rule.for ?? '0m');
        /** Minutes at which the rule fires: FailedScheduling within 35m unless (Scheduled within 35m unless FailedScheduling within 5m). */
        const firing = (failed: readonly number[], scheduled: readonly number[], until: number): number[] => {
          const within = (times: readonly number[], t: number, w: number): boolean => times.some((u) => u <= t && u > t - w);
          const out: number[] = [];
          let since: number | undefined;
          for (let t = 0; t <= until; t++) {
            const active = within(failed, t, 35) && !(within(scheduled, t, 35) && !within(failed, t, 5));
            if (!active) since = undefined;
            else if (t - (since ??= t) >= forMinutes) out.push(t);
          }
          return out;
        };
        assert.deepEqual(firing([0, 0.25], [1], 120), [], 'scheduled after a minute: no alert');
        const pending = seriesRecorderCadence(120);
        assert.deepEqual(firing(pending, [], 120), Array.from({ length: 120 - forMinutes + 1 }, (_, i) => forMinutes + i), 'left pending: fires from `for` on');
      });
      it(`${rule.alert ?? '?'} ends once a pod was Scheduled and no FailedScheduling came for 5 minutes`, () => {
        assert.match(
          rule.expr,
          /\)\s*unless\s*\(\s*sum by \(cluster, job, namespace\) \(\s*count_over_time\(\{[^}]*reason="Scheduled"\} \[35m\]\)\s*\)\s*unless\s*sum by \(cluster, job, namespace\) \(\s*count_over_time\(\{[^}]*reason="FailedScheduling"\} \[5m\]\)\s*\)\s*\)\s*$/,
        );
      });
    } else if (rule.for !== undefined) {
      it(`${rule.alert ?? '?'} stays quiet for a one-off burst of reports within a minute`, () => {
        const burst = cadence.filter((t) => t < 1);
        assert.ok(burst.length >= 2);
        assert.deepEqual(firingMinutes(presenceRule(rule), burst, 120), []);
      });
    }
  }

  for (const rule of rules) {
    it(`${rule.alert ?? '?'} parses with Grafana's LogQL grammar and uses only what the shipper writes`, () => {
      checkRuleShape(rule);
      assert.deepEqual(checkLogql(rule.expr.trim()), []);
      const grouped = outerGrouping(rule.expr);
      for (const label of templateLabels(rule)) assert.ok(grouped.includes(label), `annotations read $labels.${label}, which the expression keeps`);
    });
  }
});

describe('deploy/rules/prometheus-rules.yaml', () => {
  const rules = loadRules('prometheus-rules.yaml');
  let scrape: Scrape;
  before(async () => {
    scrape = parseExposition(await scrapeShipperMetrics());
  });

  it('covers no progress, drops, push failures, checkpoint age and relist storms', () => {
    const text = rules.map((r) => r.expr).join('\n');
    for (const metric of ['events_received_total', 'events_dropped_total', 'push_requests_total', 'checkpoint_last_write_timestamp_seconds', 'relists_total', 'leader']) {
      assert.ok(text.includes(METRIC_PREFIX + metric), `a rule on ${metric}`);
    }
  });

  it('fires KubeEventShipperAbsent per cluster: a cluster seen in the last day but not now, or no shipper at all', () => {
    const expr = ruleNamed(rules, 'KubeEventShipperAbsent').expr.replace(/\s+/g, ' ').trim();
    // One cluster losing its shipper must fire while another cluster still reports build_info.
    assert.match(expr, /group by \(cluster\) \(max_over_time\(kube_event_shipper_build_info\[1d\]\)\) unless on \(cluster\) group by \(cluster\) \(kube_event_shipper_build_info\)/);
    assert.match(expr, /\) or absent\(kube_event_shipper_build_info\)$/, 'and fires when no cluster reports at all');
    assert.doesNotMatch(expr, /^absent\(/, 'not a bare absent(), which any healthy cluster silences');
  });

  it('fires KubeEventShipperNoLeader per cluster, so the leader of one cluster does not hide another without one', () => {
    const expr = ruleNamed(rules, 'KubeEventShipperNoLeader').expr.replace(/\s+/g, ' ').trim();
    assert.equal(expr, 'sum by (cluster) (kube_event_shipper_leader) < 1');
  });

  for (const rule of rules) {
    it(`${rule.alert ?? '?'} names only metrics the shipper exports, checked against a real /metrics scrape`, () => {
      checkRuleShape(rule);
      assert.deepEqual(checkPromql(rule.expr, scrape, EXPORTED_METRIC_PREFIXES), []);
      const kept = new Set(promqlNames(rule.expr).groupingLabels);
      for (const label of templateLabels(rule)) assert.ok(kept.has(label), `annotations read $labels.${label}, which the expression keeps`);
    });
  }
});
