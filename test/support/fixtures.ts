/** Paths into the shared fixture corpora, which sit beside the repository as `../shared/`. */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const fixturesRoot = resolve(repoRoot, '..', 'shared', 'fixtures');

/** Absolute path of a fixture, e.g. `fixturePath('events/list-core-v1.json')`. */
export function fixturePath(relative: string): string {
  return resolve(fixturesRoot, relative);
}

export function readFixtureText(relative: string): string {
  return readFileSync(fixturePath(relative), 'utf8');
}

export function readFixtureJson(relative: string): unknown {
  return JSON.parse(readFixtureText(relative)) as unknown;
}

/** One parsed value per non-empty line of a `.jsonl` fixture. */
export function readFixtureJsonLines(relative: string): unknown[] {
  return readFixtureText(relative)
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as unknown);
}
