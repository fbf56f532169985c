import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { before, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { METRIC_PREFIX } from '../../src/observe/metrics.js';
import { repoRoot } from '../support/fixtures.js';
import { checkLogql } from './logql.js';
import { checkPromql, parseExposition, promqlNames, type Scrape } from './promql.js';
import { scrapeShipperMetrics } from './scrape.js';

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

/** Labels an annotation template reads (`{{ $labels.x }}`). */
const templateLabels = (rule: Rule): string[] =>
  Object.values(rule.annotations ?? {}).flatMap((text) => [...text.matchAll(/\$labels\.([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1] ?? ''));

function checkRuleShape(rule: Rule): void {
  assert.match(rule.alert ?? '', /^[A-Z][A-Za-z0-9]+$/, 'an alert name in CamelCase');
  assert.ok(['critical', 'warning', 'info'].includes(rule.labels?.['severity'] ?? ''), `${rule.alert ?? ''} has a severity`);
  assert.ok((rule.annotations?.['summary'] ?? '') !== '' && (rule.annotations?.['description'] ?? '') !== '', `${rule.alert ?? ''} has a summary and a description`);
  if (rule.for !== undefined) assert.match(rule.for, /^\d+[smh]$/);
}

describe('deploy/rules/loki-rules.yaml', () => {
  const rules = loadRules('loki-rules.yaml');

  it('alerts on every failure family the dashboards show', () => {
    const text = rules.map((r) => r.expr).join('\n');
    for (const reason of ['BackOff', 'OOMKilling', 'FailedScheduling', 'Evicted', 'FailedMount', 'Unhealthy', 'image', 'NodeNotReady']) {
      assert.ok(text.includes(reason), `a rule about ${reason}`);
    }
    const names = rules.map((r) => r.alert);
    assert.equal(new Set(names).size, names.length, 'alert names are unique');
  });

  for (const rule of rules) {
    it(`${rule.alert ?? '?'} parses with Grafana's LogQL grammar and uses only what the shipper writes`, () => {
      checkRuleShape(rule);
      assert.deepEqual(checkLogql(rule.expr.trim()), []);
      const grouped = /\bsum by \(([^)]*)\)/.exec(rule.expr)?.[1]?.split(',').map((s) => s.trim()) ?? [];
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

  for (const rule of rules) {
    it(`${rule.alert ?? '?'} names only metrics the shipper exports, checked against a real /metrics scrape`, () => {
      checkRuleShape(rule);
      assert.deepEqual(checkPromql(rule.expr, scrape, METRIC_PREFIX), []);
      const kept = new Set(promqlNames(rule.expr).groupingLabels);
      for (const label of templateLabels(rule)) assert.ok(kept.has(label), `annotations read $labels.${label}, which the expression keeps`);
    });
  }
});
