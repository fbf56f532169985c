import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root: two levels above this file, both in `src/cli/` and in `dist/cli/`. */
export const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(resolve(packageRoot, 'package.json'), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}
