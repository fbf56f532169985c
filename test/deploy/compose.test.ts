import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { deployRoot } from './render.js';

const composeDir = resolve(deployRoot, 'compose');
const readYaml = (path: string): unknown => parseYaml(readFileSync(path, 'utf8')) as unknown;

interface Service {
  readonly image?: string;
  readonly build?: { readonly context: string; readonly dockerfile: string };
  readonly command?: string[];
  readonly environment?: Record<string, string>;
  readonly volumes?: string[];
  readonly read_only?: boolean;
  readonly user?: string;
  readonly cap_drop?: string[];
  readonly profiles?: string[];
  readonly depends_on?: string[] | Record<string, { readonly condition?: string }>;
}
interface Compose {
  readonly services: Record<string, Service>;
  readonly volumes?: Record<string, unknown>;
}

const compose = readYaml(resolve(composeDir, 'compose.yaml')) as Compose;

/** `source:target[:ro]` of a short-syntax volume, with the source resolved when it is a path. */
function mounts(service: Service): { source: string; target: string; bind: boolean }[] {
  return (service.volumes ?? []).map((spec) => {
    const [source = '', target = ''] = spec.split(':');
    const bind = source.startsWith('.') || source.startsWith('/') || source.startsWith('$') || source.startsWith('~');
    return { source: bind && source.startsWith('.') ? resolve(composeDir, source) : source, target, bind };
  });
}

describe('deploy/compose', () => {
  it('runs Loki 3, Grafana and the shipper, with Prometheus behind a profile', () => {
    const { loki, grafana, shipper, prometheus } = compose.services;
    assert.match(loki?.image ?? '', /^grafana\/loki:3\./);
    assert.match(grafana?.image ?? '', /^grafana\/grafana:\d+\./);
    assert.deepEqual(prometheus?.profiles, ['prometheus']);
    assert.equal(shipper?.build?.dockerfile, 'Dockerfile');
    assert.ok(existsSync(resolve(composeDir, shipper?.build?.context ?? '', 'Dockerfile')), 'the build context holds the Dockerfile');
  });

  it('mounts only files that exist and named volumes it declares', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      for (const mount of mounts(service)) {
        if (!mount.bind) assert.ok(compose.volumes && mount.source in compose.volumes, `${name}: volume ${mount.source} is declared`);
        else if (!mount.source.startsWith('$') && !mount.source.startsWith('~')) assert.ok(existsSync(mount.source), `${name}: ${mount.source} exists`);
      }
    }
  });

  it('configures Loki with schema v13, structured metadata and stock query limits, and loads the alert rules into its ruler', () => {
    const loki = readYaml(resolve(composeDir, 'loki.yaml')) as {
      schema_config: { configs: { schema: string; store: string }[] };
      limits_config: { allow_structured_metadata: boolean; max_query_series?: number; max_entries_limit_per_query?: number };
      ruler: { storage: { local: { directory: string } } };
      auth_enabled: boolean;
    };
    assert.ok(loki.schema_config.configs.every((c) => c.schema === 'v13' && c.store === 'tsdb'));
    assert.equal(loki.limits_config.allow_structured_metadata, true);
    // The trial is a stock Loki for queries: what works here works on the Loki users already have.
    assert.equal(loki.limits_config.max_query_series, undefined, 'max_query_series left at the default 500');
    assert.equal(loki.limits_config.max_entries_limit_per_query, undefined, 'max_entries_limit_per_query left at the default 5000');
    const rulesMount = mounts(compose.services['loki'] as Service).find((m) => m.source.endsWith('loki-rules.yaml'));
    assert.ok(rulesMount, 'the Loki rules are mounted');
    // Without auth the tenant is "fake": the ruler reads <directory>/<tenant>/*.yaml.
    assert.equal(loki.auth_enabled, false);
    assert.equal(dirname(rulesMount.target), `${loki.ruler.storage.local.directory}/fake`);
  });

  it('provisions the Loki and Prometheus datasources and the bundled dashboards in Grafana', () => {
    const grafana = compose.services['grafana'] as Service;
    const provisioning = mounts(grafana).find((m) => m.target === '/etc/grafana/provisioning');
    assert.ok(provisioning);
    const datasources = readYaml(resolve(provisioning.source, 'datasources', 'datasources.yaml')) as { datasources: { type: string; url: string }[] };
    const urls = Object.fromEntries(datasources.datasources.map((d) => [d.type, d.url]));
    assert.equal(urls['loki'], 'http://loki:3100');
    assert.equal(urls['prometheus'], 'http://prometheus:9090');
    const providers = readYaml(resolve(provisioning.source, 'dashboards', 'dashboards.yaml')) as { providers: { type: string; options: { path: string } }[] };
    const path = providers.providers[0]?.options.path;
    const dashboards = mounts(grafana).find((m) => m.target === path);
    assert.ok(dashboards, `the provider path ${path ?? ''} is a mount`);
    assert.equal(dashboards.source, resolve(deployRoot, '..', 'dashboards'));
  });

  it('runs the shipper read-only, non-root, without capabilities, with the kubeconfig read-only', () => {
    const shipper = compose.services['shipper'] as Service;
    assert.equal(shipper.read_only, true);
    assert.deepEqual(shipper.cap_drop, ['ALL']);
    assert.doesNotMatch(shipper.user ?? '0', /^0(:|$)/);
    const kubeconfig = (shipper.volumes ?? []).find((v) => v.includes(':/kube/config'));
    assert.match(kubeconfig ?? '', /:ro$/);
    assert.equal(shipper.environment?.['KES_KUBECONFIG'], '/kube/config');
    assert.equal(shipper.command?.[0], 'run');
    assert.ok(shipper.command?.includes('--loki-url=http://loki:3100'));
    const checkpoint = shipper.command?.find((a) => a.startsWith('--checkpoint-file='))?.split('=')[1] ?? '';
    assert.ok(mounts(shipper).some((m) => !m.bind && checkpoint.startsWith(`${m.target}/`)), 'the checkpoint file is on a volume');
  });

  it('hands the checkpoint volume to the uid:gid the shipper runs as (SHIPPER_UID/SHIPPER_GID) before the shipper starts', () => {
    const shipper = compose.services['shipper'] as Service;
    const checkpoint = shipper.command?.find((a) => a.startsWith('--checkpoint-file=')) ?? '';
    const volume = mounts(shipper).find((m) => !m.bind && checkpoint.startsWith(`--checkpoint-file=${m.target}/`));
    assert.ok(volume, 'the checkpoint file is on a named volume');
    const owners = Object.entries(compose.services).filter(([name, service]) => {
      if (name === 'shipper') return false;
      return mounts(service).some((m) => m.source === volume.source && m.target === volume.target);
    });
    assert.equal(owners.length, 1, `one service prepares the volume ${volume.source}`);
    const [ownerName, owner] = owners[0] as [string, Service];
    const [chown, recursive, user, path] = owner.command ?? [];
    assert.deepEqual([chown, recursive, path], ['chown', '-R', volume.target]);
    assert.equal(user, shipper.user, 'chowns to exactly the user the shipper runs as, defaults and overrides alike');
    assert.match(shipper.user ?? '', /SHIPPER_UID/);
    const dependsOn = shipper.depends_on;
    assert.ok(dependsOn !== undefined && !Array.isArray(dependsOn), 'depends_on with conditions');
    assert.equal(dependsOn[ownerName]?.condition, 'service_completed_successfully', 'the shipper starts only after the chown succeeded');
  });
});
