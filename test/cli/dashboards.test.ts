import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { bundledDashboardsDir, writeDashboards } from '../../src/cli/commands/dashboards.js';
import { repoRoot } from '../support/fixtures.js';
import { runCliToEnd } from '../support/run-cli.js';

const fixtureDir = join(repoRoot, 'test', 'cli', 'fixtures', 'dashboards');

describe('dashboards', () => {
  it('writes every bundled dashboard into the output directory, creating it', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'kes-dash-')), 'nested', 'dir');
    const written = await writeDashboards({ from: fixtureDir, to: out });
    assert.deepEqual(written, [join(out, 'test-events.json')]);
    assert.equal(readFileSync(join(out, 'test-events.json'), 'utf8'), readFileSync(join(fixtureDir, 'test-events.json'), 'utf8'));
  });

  it('refuses a bundled file that is not a dashboard, and writes nothing', async () => {
    const from = mkdtempSync(join(tmpdir(), 'kes-dash-src-'));
    writeFileSync(join(from, 'a.json'), '{"title":"ok","panels":[]}');
    writeFileSync(join(from, 'b.json'), '[1,2]');
    const out = join(from, 'out');
    await assert.rejects(writeDashboards({ from, to: out }), { code: 'E_INVALID_DASHBOARD' });
    assert.equal(existsSync(out), false);
  });

  it('an empty or missing source directory is a clear error', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'kes-dash-empty-'));
    mkdirSync(join(empty, 'd'));
    await assert.rejects(writeDashboards({ from: join(empty, 'd'), to: empty }), { code: 'E_NO_DASHBOARDS' });
    await assert.rejects(writeDashboards({ from: join(empty, 'missing'), to: empty }), { code: 'E_NO_DASHBOARDS' });
  });

  it('the binary writes what the package bundles (or says there is nothing)', async () => {
    const out = mkdtempSync(join(tmpdir(), 'kes-dash-bin-'));
    const bundled = existsSync(bundledDashboardsDir) ? readdirSync(bundledDashboardsDir).filter((f) => f.endsWith('.json')).sort() : [];
    const result = await runCliToEnd(['dashboards', '--out', out]);
    if (bundled.length === 0) {
      assert.equal(result.code, 1);
      assert.match(result.stderr, /no bundled dashboards/);
    } else {
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(readdirSync(out).sort(), bundled);
      assert.deepEqual(result.stdout.trim().split('\n'), bundled.map((f) => join(out, f)));
    }
  });
});
