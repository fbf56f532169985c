/**
 * Writes every generated file (`npm run dashboards`): the bundled dashboards, the annotation
 * snippet and the Loki alert rules.
 *   --check          writes nothing; exits 1 when a committed file differs from what is generated
 *   --job NAME --out DIR
 *                    writes only loki-rules.yaml for another job label into DIR
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writeOrCheckGenerated } from '../../src/build/generated-files.js';
import { generatedFiles } from './render.js';
import { lokiRulesYaml } from './rules.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const { values } = parseArgs({ options: { check: { type: 'boolean', default: false }, job: { type: 'string' }, out: { type: 'string' } } });

if (values.job !== undefined) {
  if (values.out === undefined || !/^[A-Za-z0-9_./-]+$/.test(values.job)) {
    process.stderr.write('--job NAME needs --out DIR, and NAME letters, digits, _ . / - only\n');
    process.exit(2);
  }
  mkdirSync(values.out, { recursive: true });
  const target = resolve(values.out, 'loki-rules.yaml');
  writeFileSync(target, lokiRulesYaml(values.job));
  process.stdout.write(`${target}\n`);
} else {
  const stale = writeOrCheckGenerated(repoRoot, generatedFiles(), values.check, '');
  if (stale > 0) process.exitCode = 1;
}
