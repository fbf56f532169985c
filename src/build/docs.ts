/**
 * `npm run docs`: writes the generated documentation, `docs/configuration.md`, from the option
 * catalogue. `--check` writes nothing and exits 1 when the committed file differs.
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { renderConfigurationReference } from '../config/reference.js';
import { writeOrCheckGenerated } from './generated-files.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values } = parseArgs({ options: { check: { type: 'boolean', default: false } } });

const files: readonly [string, string][] = [['docs/configuration.md', renderConfigurationReference()]];
const stale = writeOrCheckGenerated(repoRoot, files, values.check, ': run npm run docs');
process.exitCode = stale > 0 ? 1 : 0;
