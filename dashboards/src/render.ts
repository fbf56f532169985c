/** Every file the generator owns, by path from the repository root, with its exact text. */
import { renderDashboards, warningAnnotation } from './definitions.js';
import { DEFAULT_JOB } from './families.js';
import { lokiRulesYaml } from './rules.js';

export function dashboardText(json: unknown): string {
  return `${JSON.stringify(json, null, 2)}\n`;
}

/** Where the annotation snippet lives: outside dashboards/, which Grafana provisions recursively. */
export const ANNOTATION_SNIPPET = 'deploy/grafana/kubernetes-warnings-annotation.json';
export const LOKI_RULES = 'deploy/rules/loki-rules.yaml';

export function generatedFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const [file, json] of renderDashboards()) files.set(`dashboards/${file}`, dashboardText(json));
  files.set(ANNOTATION_SNIPPET, dashboardText(warningAnnotation({ type: 'loki', uid: '${loki}' }, DEFAULT_JOB, true)));
  files.set(LOKI_RULES, lokiRulesYaml());
  return files;
}
