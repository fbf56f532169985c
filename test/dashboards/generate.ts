/** Writes the bundled dashboards: `node --import tsx test/dashboards/generate.ts`. */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { repoRoot } from '../support/fixtures.js';
import { renderDashboards } from './definitions.js';

export function dashboardText(json: unknown): string {
  return `${JSON.stringify(json, null, 2)}\n`;
}

if (import.meta.url === `file://${process.argv[1] ?? ''}`) {
  for (const [file, json] of renderDashboards()) {
    writeFileSync(resolve(repoRoot, 'dashboards', file), dashboardText(json));
    process.stdout.write(`dashboards/${file}\n`);
  }
}
