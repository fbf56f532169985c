/** Every LogQL query of the bundled dashboards and Loki rules, with where it comes from. */
import { renderDashboards } from '../../dashboards/src/definitions.js';
import { lokiRulesYaml } from '../../dashboards/src/rules.js';
import { parse as parseYaml } from 'yaml';

export interface Query {
  readonly where: string;
  readonly description: string;
  readonly expr: string;
  /** A metric query (aggregation), not a log query. */
  readonly metric: boolean;
}

interface PanelJson {
  readonly title: string;
  readonly description?: string;
  readonly targets?: { readonly expr?: string }[];
  readonly datasource?: { readonly type?: string };
}

const isMetric = (expr: string): boolean => !expr.startsWith('{');

export function lokiDashboardQueries(): Query[] {
  const out: Query[] = [];
  for (const [file, json] of renderDashboards()) {
    for (const panel of (json['panels'] ?? []) as unknown as PanelJson[]) {
      if (panel.datasource?.type !== 'loki') continue;
      for (const target of panel.targets ?? []) {
        const expr = target.expr ?? '';
        out.push({ where: `${file}: ${panel.title}`, description: panel.description ?? '', expr, metric: isMetric(expr) });
      }
    }
  }
  return out;
}

interface RuleFile {
  readonly groups: { readonly rules: { readonly alert: string; readonly expr: string; readonly annotations?: { readonly description?: string } }[] }[];
}

export function lokiRuleQueries(yamlText = lokiRulesYaml()): Query[] {
  const file = parseYaml(yamlText) as RuleFile;
  return file.groups.flatMap((g) => g.rules.map((r) => ({ where: `rule ${r.alert} (reported)`, description: r.annotations?.description ?? '', expr: r.expr.trim(), metric: true })));
}
