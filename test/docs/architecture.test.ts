import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '../support/fixtures.js';

/** The README's architecture table: one row per directory of `src/`, naming it in its first cell. */
function architectureRows(): string[] {
  const readme = readFileSync(resolve(repoRoot, 'README.md'), 'utf8');
  const start = readme.indexOf('## Architecture');
  assert.ok(start >= 0, 'README.md has an "## Architecture" section');
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/^\| `(src\/[^`]+?)\/?` \|/gm)].map((m) => m[1] ?? '');
}

function sourceDirectories(): string[] {
  return readdirSync(resolve(repoRoot, 'src'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => `src/${entry.name}`)
    .sort();
}

describe("the README's architecture table", () => {
  it('has one row for each directory of src/, and no row for one that is gone', () => {
    assert.deepEqual([...architectureRows()].sort(), sourceDirectories());
  });
});
