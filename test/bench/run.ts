/**
 * `npm run bench`: runs every `test/bench/*.bench.ts` (or only those whose name contains an
 * argument) one after the other. Each module's default export runs its benchmark and prints its
 * own figures and ratios; nothing here asserts on time.
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

type Bench = () => Promise<void> | void;

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();

for (const file of files) {
  process.stdout.write(`\n## ${file}\n`);
  const mod = (await import(pathToFileURL(join(here, file)).href)) as { default?: Bench };
  if (typeof mod.default !== 'function') throw new Error(`${file} has no default export to run`);
  await mod.default();
}
process.stdout.write(`\n${files.length} benchmark file(s) run\n`);
