import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { before, describe, it } from 'node:test';
import { EXPORTED_METRIC_PREFIXES, WATCH_EVENT_TYPES } from '../../src/observe/metrics.js';
import { repoRoot } from '../support/fixtures.js';
import { DEFAULT_JOB } from '../../dashboards/src/families.js';
import { ANNOTATION_SNIPPET, generatedFiles } from '../../dashboards/src/render.js';
import { checkLabelValuesQuery, checkLogql } from './logql.js';
import { checkPromql, parseExposition, type Scrape } from './promql.js';
import { scrapeShipperMetrics } from '../support/metrics.js';
import { LOKI_VALUES, PROMETHEUS_VALUES, substitute } from './substitute.js';

const dashboardsDir = resolve(repoRoot, 'dashboards');

interface Target {
  readonly expr?: string;
  readonly datasource?: { readonly type?: string; readonly uid?: string };
}
interface Panel {
  readonly id: number;
  readonly type: string;
  readonly title: string;
  readonly description?: string;
  readonly datasource?: { readonly type?: string; readonly uid?: string };
  readonly targets?: Target[];
  readonly repeat?: string;
  readonly gridPos: { readonly x: number; readonly y: number; readonly w: number; readonly h: number };
}
interface Variable {
  readonly name: string;
  readonly type: string;
  readonly query?: string | { readonly query?: string };
  readonly datasource?: { readonly type?: string; readonly uid?: string };
  readonly options?: { readonly text: string; readonly value: string }[];
}
interface Dashboard {
  readonly uid: string;
  readonly title: string;
  readonly tags: string[];
  readonly schemaVersion: number;
  readonly id?: unknown;
  readonly panels: Panel[];
  readonly templating: { readonly list: Variable[] };
}

function loadDashboards(): Map<string, Dashboard> {
  const files = readdirSync(dashboardsDir).filter((f) => f.endsWith('.json')).sort();
  return new Map(files.map((f) => [f, JSON.parse(readFileSync(resolve(dashboardsDir, f), 'utf8')) as Dashboard]));
}

const dashboards = loadDashboards();
const kindOf = (d: Dashboard): string => d.templating.list.find((v) => v.type === 'datasource')?.query as string;

/** Every datasource reference anywhere in the JSON. */
function datasourceRefs(value: unknown, path = '$'): { path: string; uid: unknown; type: unknown }[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => datasourceRefs(v, `${path}[${String(i)}]`));
  if (typeof value !== 'object' || value === null) return [];
  const refs: { path: string; uid: unknown; type: unknown }[] = [];
  for (const [key, inner] of Object.entries(value)) {
    if (key === 'datasource' && typeof inner === 'object' && inner !== null) {
      const { uid, type } = inner as Record<string, unknown>;
      refs.push({ path: `${path}.${key}`, uid, type });
    } else {
      refs.push(...datasourceRefs(inner, `${path}.${key}`));
    }
  }
  return refs;
}

/** Every combination of the custom variables' option values (line format, match mode, …). */
function customChoices(dashboard: Dashboard): Record<string, string>[] {
  let combos: Record<string, string>[] = [{}];
  for (const variable of dashboard.templating.list.filter((v) => v.type === 'custom')) {
    const values = (variable.options ?? []).map((o) => o.value);
    assert.ok(values.length > 0, `custom variable ${variable.name} has options`);
    combos = combos.flatMap((combo) => values.map((value) => ({ ...combo, [variable.name]: value })));
  }
  return combos;
}

describe('dashboards/', () => {
  it('holds exactly what dashboards/src generates, and so do the Loki rules (run npm run dashboards after editing)', () => {
    const generated = generatedFiles();
    const dashboardFiles = [...generated.keys()].filter((p) => p.startsWith('dashboards/')).map((p) => p.slice('dashboards/'.length));
    assert.deepEqual([...dashboards.keys()].sort(), dashboardFiles.sort(), 'every dashboard in dashboards/ is generated');
    for (const [path, text] of generated) {
      assert.equal(readFileSync(resolve(repoRoot, path), 'utf8'), text, `${path} is stale: run npm run dashboards`);
    }
  });

  it('drills down by exact object name unless regex is chosen, after a line filter on the name', () => {
    const drilldown = dashboards.get('object-drilldown.json');
    assert.ok(drilldown);
    const match = drilldown.templating.list.find((v) => v.name === 'object_match');
    assert.deepEqual(match?.options?.map((o) => o.value), ['=', '=~'], 'exact first (the default), regex only when chosen');
    for (const panel of drilldown.panels) {
      for (const target of panel.targets ?? []) {
        assert.match(target.expr ?? '', /^[^|]*\}( \[[^\]]+\])? \|~ "\$object" \| object_name\$object_match"\$object" /, `${panel.title}: line filter first, then object_name`);
      }
    }
  });

  it('selects the job through a Job variable that defaults to the shipper\'s default job, in every Loki dashboard', () => {
    for (const [file, dashboard] of dashboards) {
      if (kindOf(dashboard) !== 'loki') continue;
      const job: (Variable & { current?: { value?: unknown }; multi?: boolean }) | undefined = dashboard.templating.list.find((v) => v.name === 'job');
      assert.ok(job);
      assert.equal(job.type, 'query', `${file}: a query variable, not a constant`);
      assert.equal(job.multi, false, `${file}: one job at a time`);
      assert.equal(job.current?.value, DEFAULT_JOB, `${file}: kube-event-shipper by default`);
      for (const panel of dashboard.panels) for (const t of panel.targets ?? []) assert.match(t.expr ?? '', /\{job="\$job"/, `${file}: ${panel.title} selects job="$job"`);
    }
  });

  it('links the object column of every object table to the drill-down with the row\'s namespace, kind and name', () => {
    let links = 0;
    for (const [file, dashboard] of dashboards) {
      for (const panel of dashboard.panels.filter((p) => p.type === 'table')) {
        const overrides = (panel as Panel & { fieldConfig?: { overrides?: { matcher: { options: string }; properties: { id: string; value: { url: string }[] }[] }[] } }).fieldConfig?.overrides ?? [];
        for (const override of overrides.filter((o) => o.matcher.options === 'object_name')) {
          const url = override.properties.find((p) => p.id === 'links')?.value[0]?.url ?? '';
          links += 1;
          assert.ok(url.startsWith('/d/kes-object-drilldown?'), `${file}: ${panel.title} links to the drill-down`);
          const params = new URLSearchParams(url.slice(url.indexOf('?') + 1));
          assert.equal(params.get('var-namespace'), params.get('var-kind') === 'Node' ? '_cluster' : '${__data.fields.namespace}', `${panel.title}: the row's namespace (_cluster for nodes)`);
          assert.equal(params.get('var-object'), '${__data.fields.object_name}', `${panel.title}: the row's object`);
          assert.match(params.get('var-kind') ?? '', /^(\$\{__data\.fields\.kind\}|Pod|Node)$/, `${panel.title}: the row's kind`);
          assert.equal(params.get('var-object_match'), '=', `${panel.title}: exact name`);
          assert.ok(url.includes('${job:queryparam}') && url.includes('${__url_time_range}'), `${panel.title}: keeps job and time range`);
        }
      }
    }
    assert.ok(links >= 4, `only ${String(links)} linked tables`);
  });

  it('ships a Warning-events annotation for any dashboard, and offers it (off) on the Loki dashboards', () => {
    const snippet = JSON.parse(readFileSync(resolve(repoRoot, ANNOTATION_SNIPPET), 'utf8')) as { expr: string; datasource: { type: string }; enable: boolean; name: string };
    assert.equal(snippet.datasource.type, 'loki');
    assert.equal(snippet.enable, true);
    assert.match(snippet.expr, /^\{job="kube-event-shipper", cluster=~"\$cluster", namespace=~"\$namespace", type="Warning"\}$/);
    assert.deepEqual(checkLogql(substitute(snippet.expr, LOKI_VALUES)), []);
    for (const [file, dashboard] of dashboards) {
      if (kindOf(dashboard) !== 'loki') continue;
      const list = (dashboard as Dashboard & { annotations: { list: { name: string; expr?: string; enable: boolean }[] } }).annotations.list;
      const warnings = list.find((a) => a.name === snippet.name);
      assert.ok(warnings, `${file} offers the annotation`);
      assert.equal(warnings.enable, false, `${file}: off until switched on`);
      assert.equal(warnings.expr, snippet.expr.replace('job="kube-event-shipper"', 'job="$job"'));
    }
  });

  it('shows events in per second from ADDED and MODIFIED only, so a relist does not spike it', () => {
    const stat = dashboards.get('shipper-health.json')?.panels.find((p) => p.title === 'Events in /s');
    const expr = stat?.targets?.[0]?.expr ?? '';
    const types = /events_received_total\{[^}]*type=~"([^"]*)"/.exec(expr)?.[1]?.split('|');
    assert.deepEqual(types, ['ADDED', 'MODIFIED']);
    for (const type of types) assert.ok((WATCH_EVENT_TYPES as readonly string[]).includes(type), `${type} is a type the shipper counts`);
  });

  it('ships the overview, drill-down, nodes and shipper health dashboards with stable unique uids', () => {
    const uids = [...dashboards.values()].map((d) => d.uid);
    assert.deepEqual(uids.sort(), ['kes-events-overview', 'kes-nodes-scheduling', 'kes-object-drilldown', 'kes-shipper-health']);
    for (const uid of uids) assert.ok(uid.length <= 40 && /^[a-z0-9-]+$/.test(uid));
  });
});

for (const [file, dashboard] of dashboards) {
  describe(`dashboards/${file}`, () => {
    const kind = kindOf(dashboard);
    const names = dashboard.templating.list.map((v) => v.name);

    it('imports anywhere: current schema, tags, no id, a datasource variable and no hard-coded datasource uid', () => {
      assert.ok(dashboard.schemaVersion >= 39, `schemaVersion ${String(dashboard.schemaVersion)}`);
      assert.ok(dashboard.tags.includes('kube-event-shipper'));
      assert.equal(dashboard.id, undefined, 'no numeric id: Grafana assigns one on import');
      assert.ok(['loki', 'prometheus'].includes(kind), 'a datasource variable of type loki or prometheus');
      const refs = datasourceRefs(dashboard);
      assert.ok(refs.length > 0);
      for (const ref of refs) {
        if (ref.type === 'grafana') continue; // the built-in annotations
        assert.equal(ref.uid, '${datasource}', `${ref.path} uses the datasource variable`);
        assert.equal(ref.type, kind, `${ref.path} has the datasource's type`);
      }
    });

    it('has filter variables and no repeat', () => {
      const wanted = kind === 'loki' ? ['job', 'cluster', 'namespace', 'kind', 'reason', 'type', 'search'] : ['cluster', 'namespace', 'job', 'instance'];
      for (const name of wanted) assert.ok(names.includes(name), `variable ${name}`);
      assert.equal(JSON.stringify(dashboard).includes('"repeat"'), false);
    });

    it('lays panels out without overlap, each with a title, a description and a query', () => {
      const taken = new Set<string>();
      for (const panel of dashboard.panels) {
        assert.ok(panel.title !== '' && (panel.description ?? '') !== '', `panel ${String(panel.id)} has a title and a description`);
        assert.ok((panel.targets ?? []).length > 0 && panel.targets?.every((t) => (t.expr ?? '') !== ''), `${panel.title} has queries`);
        const { x, y, w, h } = panel.gridPos;
        assert.ok(x >= 0 && x + w <= 24, `${panel.title} fits the 24-column grid`);
        for (let i = x; i < x + w; i++) for (let j = y; j < y + h; j++) {
          assert.ok(!taken.has(`${String(i)},${String(j)}`), `${panel.title} overlaps another panel`);
          taken.add(`${String(i)},${String(j)}`);
        }
      }
      assert.equal(new Set(dashboard.panels.map((p) => p.id)).size, dashboard.panels.length, 'unique panel ids');
    });

    if (kind === 'loki') {
      it('parses every LogQL query with Grafana\'s grammar and uses only labels and keys the shipper writes', () => {
        const problems: string[] = [];
        let checked = 0;
        for (const choice of customChoices(dashboard)) {
          const values = { ...LOKI_VALUES, ...choice };
          const lineFormat = Object.entries(choice).map(([k, v]) => `${k}=${v}`).join(' ');
          for (const panel of dashboard.panels) {
            for (const target of panel.targets ?? []) {
              checked++;
              for (const p of checkLogql(substitute(target.expr ?? '', values))) problems.push(`${panel.title} (${lineFormat}): ${p.problem} in ${p.expr}`);
            }
          }
          for (const variable of dashboard.templating.list.filter((v) => v.type === 'query')) {
            const query = typeof variable.query === 'string' ? variable.query : (variable.query?.query ?? '');
            for (const p of checkLabelValuesQuery(substitute(query, values))) problems.push(`variable ${variable.name}: ${p.problem} in ${p.expr}`);
          }
        }
        assert.ok(checked > 0);
        assert.deepEqual(problems, []);
      });
    } else {
      let scrape: Scrape;
      before(async () => {
        scrape = parseExposition(await scrapeShipperMetrics());
      });

      it('names only metrics the shipper exports, checked against a real /metrics scrape', () => {
        const problems: string[] = [];
        const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => `${p.title}: ${t.expr ?? ''}`));
        for (const variable of dashboard.templating.list.filter((v) => v.type === 'query')) {
          const query = typeof variable.query === 'string' ? variable.query : (variable.query?.query ?? '');
          const inner = /^label_values\((.*),\s*[A-Za-z_]+\)$/.exec(query)?.[1];
          assert.ok(inner, `variable ${variable.name} is label_values(metric, label)`);
          exprs.push(`variable ${variable.name}: ${inner}`);
        }
        for (const line of exprs) {
          const [where, expr = ''] = line.split(/: (.*)/s);
          for (const p of checkPromql(substitute(expr, PROMETHEUS_VALUES), scrape, EXPORTED_METRIC_PREFIXES)) problems.push(`${where ?? ''}: ${p}`);
        }
        assert.ok(exprs.length > 10);
        assert.deepEqual(problems, []);
      });
    }
  });
}
