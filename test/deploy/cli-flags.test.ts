import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { loadConfig } from '../../src/config/index.js';
import { repoRoot } from '../support/fixtures.js';
import { KUSTOMIZATIONS, kustomize, ofKind, onlyOne, type ConfigMapObject, type Container, type DeploymentObject } from './render.js';

/** What the built CLI says it accepts: `run --help` of `dist/cli/main.js` (npm test builds first). */
function runHelp(): { flags: Set<string>; envs: Set<string> } {
  const result = spawnSync(process.execPath, [resolve(repoRoot, 'dist', 'cli', 'main.js'), 'run', '--help'], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(result.status, 0, `run --help failed: ${result.stderr}`);
  const flags = new Set([...result.stdout.matchAll(/^\s+(--[a-z][a-z0-9-]*)/gm)].map((m) => m[1] ?? ''));
  const envs = new Set([...result.stdout.matchAll(/\b(KES_[A-Z0-9_]+)\b/g)].map((m) => m[1] ?? ''));
  assert.ok(flags.size > 30 && envs.size > 30, 'the help lists the options and their env twins');
  return { flags, envs };
}

const kebab = (key: string): string => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
const camel = (flag: string): string => flag.replace(/^--/, '').replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** `--name=value` arguments after `run`. */
function flagArgs(args: readonly string[]): [string, string][] {
  assert.equal(args[0], 'run');
  return args.slice(1).map((arg) => {
    const match = /^(--[a-z][a-z0-9-]*)(?:=(.*))?$/s.exec(arg);
    assert.ok(match, `${arg} is a --flag=value`);
    return [match[1] ?? '', match[2] ?? 'true'];
  });
}

describe('the Deployment and the trial stack speak the CLI', () => {
  const help = runHelp();

  for (const dir of KUSTOMIZATIONS) {
    it(`deploy/${dir} uses only flags, env twins and config keys the CLI has, with values it accepts`, async () => {
      const objects = await kustomize(dir);
      const deployment = onlyOne<DeploymentObject>(objects, 'Deployment');
      const container = deployment.spec.template.spec.containers[0] as Container;
      const namespace = deployment.metadata.namespace ?? '';
      const flags = flagArgs(container.args ?? []);
      for (const [flag] of flags) assert.ok(help.flags.has(flag), `${flag} is an option of run`);
      const kesEnv = (container.env ?? []).filter((e) => e.name.startsWith('KES_'));
      for (const env of kesEnv) assert.ok(help.envs.has(env.name), `${env.name} is an env twin`);

      const configPath = flags.find(([f]) => f === '--config')?.[1] ?? '';
      const configMap = ofKind<ConfigMapObject>(objects, 'ConfigMap').find((c) => c.data?.['config.yaml'] !== undefined);
      const configText = configMap?.data?.['config.yaml'] ?? '';
      for (const key of Object.keys(parseYaml(configText) as Record<string, unknown>)) assert.ok(help.flags.has(kebab(key)), `config key ${key} is an option`);

      // The real loader validates the whole configuration as the pod would see it.
      const expand = (v: string): string => v.replace('$(POD_NAMESPACE)', namespace).replace('$(POD_NAME)', 'kube-event-shipper-abc12');
      const flagValues: Record<string, string> = {};
      for (const [flag, value] of flags) flagValues[camel(flag)] = expand(value);
      const config = loadConfig({
        flags: flagValues,
        env: Object.fromEntries(kesEnv.map((e) => [e.name, e.value ?? `from-secret-${e.valueFrom?.secretKeyRef?.key ?? ''}`])),
        readFile: (path) => {
          if (path === configPath) return configText;
          throw Object.assign(new Error(`ENOENT ${path}`), { code: 'ENOENT' });
        },
        hostname: 'test',
      });
      assert.equal(config.checkpointConfigmap?.namespace, namespace);
    });
  }

  it('the compose shipper uses only flags and env twins the CLI has, with values it accepts', () => {
    const compose = parseYaml(readFileSync(resolve(repoRoot, 'deploy', 'compose', 'compose.yaml'), 'utf8')) as {
      services: { shipper: { command: string[]; environment: Record<string, string> } };
    };
    const { command, environment } = compose.services.shipper;
    const flags = flagArgs(command);
    for (const [flag] of flags) assert.ok(help.flags.has(flag), `${flag} is an option of run`);
    for (const name of Object.keys(environment)) assert.ok(help.envs.has(name), `${name} is an env twin`);
    const config = loadConfig({ flags: Object.fromEntries(flags.map(([f, v]) => [camel(f), v])), env: environment, readFile: () => '', hostname: 'test' });
    assert.equal(config.lokiUrl, 'http://loki:3100');
  });
});
