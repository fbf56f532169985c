/**
 * `npm run docs`: writes the generated documentation, `docs/configuration.md`, from the option
 * catalogue. `--check` writes nothing and exits 1 when the committed file differs.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { renderConfigurationReference } from '../config/reference.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values } = parseArgs({ options: { check: { type: 'boolean', default: false } } });

const files: readonly [string, string][] = [['docs/configuration.md', renderConfigurationReference()]];
let stale = 0;
for (const [path, text] of files) {
  const target = resolve(repoRoot, path);
  if (values.check) {
    let current = '';
    try {
      current = readFileSync(target, 'utf8');
    } catch {
      // a missing file is stale too
    }
    if (current !== text) {
      stale += 1;
      process.stderr.write(`${path} differs from what the generator makes: run npm run docs\n`);
    }
  } else {
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, text);
    process.stdout.write(`${path}\n`);
  }
}
process.exitCode = stale > 0 ? 1 : 0;
