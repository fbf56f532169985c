/**
 * Writes every generated file (`npm run dashboards`): the bundled dashboards and the Loki alert
 * rules. `--check` writes nothing and exits 1 when a committed file differs from what is generated.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generatedFiles } from './render.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const check = process.argv.includes('--check');
let stale = 0;
for (const [path, text] of generatedFiles()) {
  const target = resolve(repoRoot, path);
  if (check) {
    let current = '';
    try {
      current = readFileSync(target, 'utf8');
    } catch {
      // a missing file is stale too
    }
    if (current !== text) {
      stale += 1;
      process.stderr.write(`${path} differs from what the generator makes\n`);
    }
  } else {
    writeFileSync(target, text);
    process.stdout.write(`${path}\n`);
  }
}
if (stale > 0) process.exitCode = 1;
