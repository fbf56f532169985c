import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { loadConfig } from '../../src/config/load.js';
import { envName, flagName, OPTION_SPECS, type OptionSpec } from '../../src/config/options.js';
import { formatMs } from '../../src/config/parse.js';
import { EXAMPLE_CONFIG_FILE, renderConfigurationReference } from '../../src/config/reference.js';
import { parseOptions } from '../../src/config/schema.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const defaults = Object.fromEntries(OPTION_SPECS.flatMap((spec) => (spec.default !== undefined ? [[spec.key, spec.default]] : [])));

/** A bound written as a user would: durations with a unit, sizes and counts as numbers. */
function around(spec: OptionSpec, value: number): string {
  return spec.kind === 'duration' ? formatMs(value) : String(value);
}

describe('the option catalogue', () => {
  it('orders options only against options of the same kind', () => {
    for (const spec of OPTION_SPECS) {
      for (const other of [spec.lessThan, spec.atLeast]) {
        if (other === undefined) continue;
        const target = OPTION_SPECS.find((s) => s.key === other);
        assert.ok(target, `${spec.key} refers to ${other}, which is in the catalogue`);
        assert.equal(target.kind, spec.kind, `${spec.key} and ${other} are of one kind`);
      }
    }
  });

  it('gives the schema its bounds: one below the minimum (or above the maximum) is refused, the bound itself accepted', () => {
    const bounded = OPTION_SPECS.filter((spec) => spec.min !== undefined || spec.max !== undefined);
    assert.ok(bounded.length >= 15, 'durations, sizes and counts are bounded');
    for (const spec of bounded) {
      for (const [edge, outside] of [
        [spec.min, spec.min === undefined ? undefined : spec.min - 1],
        [spec.max, spec.max === undefined ? undefined : spec.max + 1],
      ] as const) {
        if (edge === undefined || outside === undefined) continue;
        assert.equal(parseOptions({ ...defaults, [spec.key]: around(spec, edge) }).success, true, `${spec.key} = ${around(spec, edge)} is accepted`);
        const refused = parseOptions({ ...defaults, [spec.key]: around(spec, outside) });
        assert.equal(refused.success, false, `${spec.key} = ${around(spec, outside)} is refused`);
        if (!refused.success) assert.deepEqual(refused.error.issues[0]?.path, [spec.key]);
      }
    }
  });

  it('makes every option without a default optional, and gives every other its default', () => {
    const parsed = parseOptions(defaults);
    assert.ok(parsed.success);
    const values = parsed.data as Readonly<Record<string, unknown>>;
    for (const spec of OPTION_SPECS) {
      assert.equal(spec.key in values && values[spec.key] !== undefined, spec.default !== undefined, spec.key);
    }
  });
});

describe('docs/configuration.md (npm run docs)', () => {
  it('holds exactly what the catalogue renders (run npm run docs after editing src/config/options.ts)', () => {
    const committed = readFileSync(resolve(repoRoot, 'docs', 'configuration.md'), 'utf8');
    assert.equal(committed, renderConfigurationReference(), 'docs/configuration.md is stale: run npm run docs');
  });

  it('lists every option once, with its flag, env variable and YAML key', () => {
    const rows = renderConfigurationReference().split('\n').filter((line) => line.startsWith('| `--'));
    assert.equal(rows.length, OPTION_SPECS.length);
    for (const spec of OPTION_SPECS) {
      assert.equal(rows.filter((row) => row.startsWith(`| \`${flagName(spec.key)}\` | \`${envName(spec.key)}\` | \`${spec.key}\` |`)).length, 1, spec.key);
    }
  });

  it('shows an example file that loads as it says', () => {
    const config = loadConfig({
      flags: { config: '/etc/kube-event-shipper/config.yaml' },
      env: {},
      readFile: (path) => (path === '/etc/kube-event-shipper/config.yaml' ? EXAMPLE_CONFIG_FILE : 'pw\n'),
      hostname: 'host',
    });
    assert.deepEqual(config.staticLabels, { job: 'kube-event-shipper', cluster: 'prod-eu-1' });
    assert.deepEqual(config.initial, { kind: 'maxAge', maxAgeMs: 2 * 3_600_000 });
    assert.equal(config.lokiPassword, 'pw');
    assert.equal(config.leaderElect, true);
  });

  it('the generator run with --check finds the committed file current (exit 0)', async () => {
    const { stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/build/docs.ts', '--check'], { cwd: repoRoot });
    assert.equal(stderr, '');
  });
});
