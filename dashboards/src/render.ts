/** Every file the generator owns, by path from the repository root, with its exact text. */
import { renderDashboards } from './definitions.js';

export function dashboardText(json: unknown): string {
  return `${JSON.stringify(json, null, 2)}\n`;
}

export function generatedFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const [file, json] of renderDashboards()) files.set(`dashboards/${file}`, dashboardText(json));
  return files;
}
