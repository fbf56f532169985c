import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { lokiRulesYaml } from '../../dashboards/src/rules.js';
import { repoRoot } from '../support/fixtures.js';

const run = promisify(execFile);
const script = ['--import', 'tsx', 'dashboards/src/generate.ts'];

// `npm run dashboards` is `node --import tsx dashboards/src/generate.ts`: run as a process, as users do.
describe('the dashboards generator (npm run dashboards)', () => {
  it('finds every committed file byte-identical to what it makes (--check exits 0)', async () => {
    const { stderr } = await run(process.execPath, [...script, '--check'], { cwd: repoRoot });
    assert.equal(stderr, '');
  });

  it('writes the Loki rules for another job with --job and --out, and refuses --job without --out (exit 2)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kes-rules-'));
    try {
      await run(process.execPath, [...script, '--job', 'events', '--out', dir], { cwd: repoRoot });
      assert.equal(await readFile(join(dir, 'loki-rules.yaml'), 'utf8'), lokiRulesYaml('events'));
      await assert.rejects(run(process.execPath, [...script, '--job', 'events'], { cwd: repoRoot }), (err: { code?: number; stderr?: string }) => err.code === 2 && /--out/.test(err.stderr ?? ''));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
