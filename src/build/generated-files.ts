/**
 * Writes generated files into the repository, or with `check` compares them with what is
 * committed: shared by `npm run docs` and `npm run dashboards`, whose tests fail on a stale file.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * Writes each `[path, text]` under `repoRoot` (naming it on stdout), or with `check` writes nothing
 * and names on stderr each file that differs (`hint` says how to regenerate). Returns how many differ.
 */
export function writeOrCheckGenerated(repoRoot: string, files: Iterable<readonly [string, string]>, check: boolean, hint: string): number {
  let stale = 0;
  for (const [path, text] of files) {
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
        process.stderr.write(`${path} differs from what the generator makes${hint}\n`);
      }
    } else {
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, text);
      process.stdout.write(`${path}\n`);
    }
  }
  return stale;
}
