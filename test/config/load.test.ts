import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig, redactConfig, type ConfigSources } from '../../src/config/load.js';
import { OPTION_SPECS, envName, flagName } from '../../src/config/options.js';
import { configSchema } from '../../src/config/schema.js';
import { ConfigError } from '../../src/core/errors.js';

function sources(overrides: Partial<ConfigSources> & { files?: Record<string, string> } = {}): ConfigSources {
  const files = overrides.files ?? {};
  return {
    flags: overrides.flags ?? {},
    env: overrides.env ?? {},
    hostname: overrides.hostname ?? 'host-a',
    ...(overrides.instanceId !== undefined ? { instanceId: overrides.instanceId } : {}),
    readFile:
      overrides.readFile ??
      ((path: string) => {
        const text = files[path];
        if (text === undefined) throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
        return text;
      }),
  };
}

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    assert.equal(err.code, 'E_CONFIG');
    assert.doesNotMatch(err.message, /\n/, 'one line');
    return err;
  }
  assert.fail('expected a ConfigError');
}

describe('loadConfig', () => {
  it('with nothing given, every default parses', () => {
    const config = loadConfig(sources());
    assert.equal(config.lokiUrl, undefined);
    assert.equal(config.batchMaxBytes, 1_048_576);
    assert.equal(config.gracePeriod, 25_000);
    assert.deepEqual(config.listen, { host: '', port: 8080 });
    assert.deepEqual(config.staticLabels, { job: 'kube-event-shipper' });
    assert.deepEqual(config.labels, ['namespace', 'reason', 'type', 'kind', 'source']);
    assert.deepEqual(config.initial, { kind: 'none' });
    assert.match(config.identity, /^host-a_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.equal(config.leaderElect, false);
  });

  it('makes the default identity unique per process (host name plus a random suffix), so two replicas on one host never share it', () => {
    const a = loadConfig(sources()).identity;
    const b = loadConfig(sources()).identity;
    assert.notEqual(a, b);
    assert.ok(a.startsWith('host-a_') && b.startsWith('host-a_'));
    assert.equal(loadConfig(sources({ instanceId: 'abc' })).identity, 'host-a_abc');
    assert.equal(loadConfig(sources({ flags: { identity: 'pod-7' } })).identity, 'pod-7', '--identity is taken as given');
  });

  it('flags win over env, env over the file, the file over defaults', () => {
    const files = { '/c.yaml': 'lokiUrl: http://file:3100\ntenant: file-tenant\npageSize: 7\nbatchMaxWait: 3s\n' };
    const config = loadConfig(
      sources({
        files,
        flags: { config: '/c.yaml', lokiUrl: 'http://flag:3100' },
        env: { KES_LOKI_URL: 'http://env:3100', KES_TENANT: 'env-tenant', KES_BATCH_MAX_WAIT: '' },
      }),
    );
    assert.equal(config.lokiUrl, 'http://flag:3100');
    assert.equal(config.tenant, 'env-tenant');
    assert.equal(config.pageSize, 7);
    assert.equal(config.batchMaxWait, 3000, 'an empty env variable counts as unset');
    assert.equal(config.batchMaxEntries, 10_000);
  });

  it('the config file path may come from KES_CONFIG', () => {
    const config = loadConfig(sources({ files: { '/k.yaml': 'tenant: t1' }, env: { KES_CONFIG: '/k.yaml' } }));
    assert.equal(config.tenant, 't1');
  });

  it('the file takes YAML lists, mappings, numbers and booleans', () => {
    const files = {
      '/c.yaml': [
        'namespaces: [default, kube-system]',
        'staticLabels: { cluster: prod, job: events }',
        'lokiHeaders:',
        '  X-Team: a',
        'batchMaxBytes: 2048',
        'leaderElect: true',
        'lease: monitoring/kes',
        'initial: 2h',
      ].join('\n'),
    };
    const config = loadConfig(sources({ files, flags: { config: '/c.yaml' } }));
    assert.deepEqual(config.namespaces, ['default', 'kube-system']);
    assert.deepEqual(config.staticLabels, { cluster: 'prod', job: 'events' });
    assert.deepEqual(config.lokiHeaders, { 'X-Team': 'a' });
    assert.equal(config.batchMaxBytes, 2048);
    assert.equal(config.leaderElect, true);
    assert.deepEqual(config.lease, { namespace: 'monitoring', name: 'kes' });
    assert.deepEqual(config.initial, { kind: 'maxAge', maxAgeMs: 7_200_000 });
  });

  it('static labels from a flag, env or file are merged over the default job label', () => {
    const want = { job: 'kube-event-shipper', cluster: 'prod' };
    assert.deepEqual(loadConfig(sources({ flags: { staticLabels: 'cluster=prod' } })).staticLabels, want);
    assert.deepEqual(loadConfig(sources({ env: { KES_STATIC_LABELS: 'cluster=prod' } })).staticLabels, want);
    const files = { '/c.yaml': 'staticLabels: { cluster: prod }' };
    assert.deepEqual(loadConfig(sources({ files, flags: { config: '/c.yaml' } })).staticLabels, want);
  });

  it('an explicit job static label replaces the default one', () => {
    assert.deepEqual(loadConfig(sources({ flags: { staticLabels: 'job=other,cluster=prod' } })).staticLabels, { job: 'other', cluster: 'prod' });
  });

  it('the result is deeply frozen', () => {
    const config = loadConfig(sources({ flags: { namespaces: 'a,b' } }));
    assert.ok(Object.isFrozen(config));
    assert.ok(Object.isFrozen(config.namespaces));
    assert.ok(Object.isFrozen(config.staticLabels));
    assert.ok(Object.isFrozen(config.listen));
  });

  it('a bad flag value names the flag, the value and what is expected', () => {
    const err = configError(() => loadConfig(sources({ flags: { batchMaxBytes: 'lots' } })));
    assert.equal(err.message, 'invalid --batch-max-bytes "lots": expected a byte size like 1048576, 512KiB or 1MiB');
  });

  it('a bad env value names the env variable', () => {
    const err = configError(() => loadConfig(sources({ env: { KES_GRACE_PERIOD: '25' } })));
    assert.equal(err.message, 'invalid KES_GRACE_PERIOD "25": expected a duration like 500ms, 30s, 5m, 2h or 6d');
  });

  it('a bad file value names the key and the file', () => {
    const err = configError(() => loadConfig(sources({ files: { '/c.yaml': 'api: v2' }, flags: { config: '/c.yaml' } })));
    assert.equal(err.message, 'invalid api in /c.yaml "v2": expected one of core/v1, events.k8s.io/v1');
  });

  it('an unknown file key is refused, with a hint for kebab-case', () => {
    const err = configError(() => loadConfig(sources({ files: { '/c.yaml': 'loki-url: http://x' }, flags: { config: '/c.yaml' } })));
    assert.match(err.message, /unknown key "loki-url" in config file \/c\.yaml.*did you mean lokiUrl\?/);
  });

  it('a missing, malformed or non-mapping config file is a ConfigError', () => {
    assert.match(configError(() => loadConfig(sources({ flags: { config: '/nope.yaml' } }))).message, /cannot read config file \/nope\.yaml: ENOENT/);
    assert.match(configError(() => loadConfig(sources({ files: { '/c.yaml': 'a: [' }, flags: { config: '/c.yaml' } }))).message, /not valid YAML/);
    assert.match(configError(() => loadConfig(sources({ files: { '/c.yaml': '- a' }, flags: { config: '/c.yaml' } }))).message, /must be a mapping/);
  });

  it('a file value of the wrong shape is refused', () => {
    const err = configError(() => loadConfig(sources({ files: { '/c.yaml': 'tenant: [a, b]' }, flags: { config: '/c.yaml' } })));
    assert.match(err.message, /^invalid tenant in \/c\.yaml \["a","b"\]: expected a single value$/);
  });

  it('URLs must be http(s) and carry no credentials', () => {
    assert.match(configError(() => loadConfig(sources({ flags: { lokiUrl: 'ftp://x' } }))).message, /expected an http:\/\/ or https:\/\/ URL/);
    const err = configError(() => loadConfig(sources({ flags: { lokiUrl: 'http://u:hunter2@loki' } })));
    assert.match(err.message, /without credentials/);
  });

  it('label names and header names are checked', () => {
    assert.match(configError(() => loadConfig(sources({ flags: { staticLabels: 'my-cluster=a' } }))).message, /label names/);
    assert.match(configError(() => loadConfig(sources({ flags: { lokiHeaders: 'bad header=a' } }))).message, /HTTP header names/);
  });

  it('combinations that cannot work are refused', () => {
    assert.match(configError(() => loadConfig(sources({ flags: { leaderElect: true } }))).message, /--leader-elect is on but --lease is not set/);
    assert.match(
      configError(() => loadConfig(sources({ flags: { checkpointFile: '/cp', checkpointConfigmap: 'a/b' } }))).message,
      /--checkpoint-file and --checkpoint-configmap are both set/,
    );
    assert.match(configError(() => loadConfig(sources({ flags: { lokiCertFile: '/c' } }))).message, /go together/);
    assert.match(configError(() => loadConfig(sources({ flags: { leaseRenewDeadline: '20s' } }))).message, /less than --lease-duration/);
    assert.match(configError(() => loadConfig(sources({ flags: { leaseRetryPeriod: '10s' } }))).message, /less than --lease-renew-deadline/);
  });

  it('secrets are read from files or env, and a password needs a user name', () => {
    const files = { '/pw': 'hunter2\n', '/token': 'tok\n' };
    const basic = loadConfig(sources({ files, flags: { lokiUsername: 'u', lokiPasswordFile: '/pw' } }));
    assert.equal(basic.lokiPassword, 'hunter2');
    const fromEnv = loadConfig(sources({ flags: { lokiUsername: 'u' }, env: { KES_LOKI_PASSWORD: 's3' } }));
    assert.equal(fromEnv.lokiPassword, 's3');
    assert.equal(loadConfig(sources({ files, flags: { lokiBearerTokenFile: '/token' } })).lokiBearerToken, 'tok');
    assert.match(configError(() => loadConfig(sources({ files, flags: { lokiPasswordFile: '/pw' } }))).message, /go together/);
    assert.match(configError(() => loadConfig(sources({ flags: { lokiBearerTokenFile: '/missing' } }))).message, /cannot read Loki bearer token file \/missing: ENOENT/);
    assert.match(
      configError(() => loadConfig(sources({ files, flags: { lokiUsername: 'u', lokiPasswordFile: '/pw', lokiBearerTokenFile: '/token' } }))).message,
      /one way to authenticate/,
    );
  });

  it('TLS files are read at load time, and a missing one is a ConfigError', () => {
    const files = { '/ca.pem': 'CA\n', '/c.pem': 'CERT\n', '/k.pem': 'KEY\n' };
    const config = loadConfig(sources({ files, flags: { lokiCaFile: '/ca.pem', lokiCertFile: '/c.pem', lokiKeyFile: '/k.pem' } }));
    assert.deepEqual(config.lokiTls, { ca: 'CA', cert: 'CERT', key: 'KEY' });
    assert.doesNotMatch(JSON.stringify(redactConfig(config)), /KEY/);
    assert.match(configError(() => loadConfig(sources({ flags: { lokiCaFile: '/none.pem' } }))).message, /cannot read Loki CA file \/none\.pem: ENOENT/);
  });

  it('a secret never appears in an error message or in the redacted dump', () => {
    const files = { '/pw': 'hunter2\n' };
    const config = loadConfig(sources({ files, flags: { lokiUsername: 'u', lokiPasswordFile: '/pw', lokiHeaders: 'Authorization=Bearer xyz' } }));
    const dump = JSON.stringify(redactConfig(config));
    assert.doesNotMatch(dump, /hunter2/);
    assert.doesNotMatch(dump, /xyz/);
    assert.match(dump, /"lokiPassword":"<redacted>"/);
    const err = configError(() => loadConfig(sources({ files, flags: { lokiPasswordFile: '/pw' } })));
    assert.doesNotMatch(err.message, /hunter2/);
  });

  it('a zero or too short duration is refused with the flag name and the minimum', () => {
    const cases: [string, string, RegExp][] = [
      ['stallTimeout', '0s', /^invalid --stall-timeout "0s": expected a duration ≥ 1s$/],
      ['checkpointInterval', '0s', /^invalid --checkpoint-interval "0s": expected a duration ≥ 100ms$/],
      ['leaseRetryPeriod', '0s', /^invalid --lease-retry-period "0s": expected a duration ≥ 100ms$/],
      ['gracePeriod', '0s', /^invalid --grace-period "0s": expected a duration ≥ 1s$/],
      ['healthStallTimeout', '0s', /^invalid --health-stall-timeout "0s": expected a duration ≥ 1m$/],
      ['healthStallTimeout', '30s', /^invalid --health-stall-timeout "30s": expected a duration ≥ 1m$/],
      ['batchMaxWait', '0s', /^invalid --batch-max-wait "0s": expected a duration ≥ 1ms$/],
      ['lokiTimeout', '50ms', /^invalid --loki-timeout "50ms": expected a duration ≥ 100ms$/],
      ['leaseDuration', '500ms', /^invalid --lease-duration "500ms": expected a duration ≥ 1s$/],
      ['acceptWindow', '0s', /^invalid --accept-window "0s": expected a duration ≥ 1h$/],
      ['acceptWindow', '30m', /^invalid --accept-window "30m": expected a duration ≥ 1h$/],
      ['pageSize', '0', /^invalid --page-size "0": expected a whole number ≥ 1$/],
    ];
    for (const [key, value, expected] of cases) {
      assert.match(configError(() => loadConfig(sources({ flags: { [key]: value } }))).message, expected, key);
    }
    assert.equal(loadConfig(sources({ flags: { stallTimeout: '1s', checkpointInterval: '100ms', batchMaxWait: '1ms' } })).stallTimeout, 1000);
  });

  it('the transform limits are refused in the one format, naming the flag, env variable or file key', () => {
    const fromFile = (yaml: string): string => configError(() => loadConfig(sources({ files: { '/c.yaml': yaml }, flags: { config: '/c.yaml' } }))).message;
    assert.equal(
      configError(() => loadConfig(sources({ flags: { maxMessageBytes: '200KiB' } }))).message,
      'invalid --max-message-bytes "200KiB": expected a byte size between 256 and 131072 (128KiB)',
    );
    assert.equal(
      configError(() => loadConfig(sources({ env: { KES_MAX_MESSAGE_BYTES: '100' } }))).message,
      'invalid KES_MAX_MESSAGE_BYTES "100": expected a byte size between 256 and 131072 (128KiB)',
    );
    assert.equal(fromFile('maxMessageBytes: 100'), 'invalid maxMessageBytes in /c.yaml 100: expected a byte size between 256 and 131072 (128KiB)');
    assert.equal(fromFile('acceptWindow: 30m'), 'invalid acceptWindow in /c.yaml "30m": expected a duration ≥ 1h');
    assert.match(fromFile('labels: [namespace, node]'), /^invalid labels in \/c\.yaml \["namespace","node"\]: expected event labels only: "node" has a value per object or event/);
    assert.match(fromFile('labels: [namespace, colour]'), /^invalid labels in \/c\.yaml \["namespace","colour"\]: expected event labels only: "colour" is not an event label/);
    assert.equal(
      fromFile('staticLabels: { namespace: x }'),
      'invalid staticLabels in /c.yaml {"namespace":"x"}: expected labels Loki accepts: "namespace" clashes with the event label of the same name',
    );
    assert.equal(loadConfig(sources({ flags: { maxMessageBytes: '128KiB', acceptWindow: '1h' } })).acceptWindow, 3_600_000);
  });

  it('the health stall timeout must not be shorter than the stall timeout', () => {
    assert.match(
      configError(() => loadConfig(sources({ flags: { stallTimeout: '20m' } }))).message,
      /^invalid default of --health-stall-timeout "15m": expected at least --stall-timeout \(20m\)$/,
    );
    assert.equal(loadConfig(sources({ flags: { stallTimeout: '20m', healthStallTimeout: '20m' } })).healthStallTimeout, 1_200_000);
  });

  it('the queue must hold at least one full batch: --queue-max-bytes below --batch-max-bytes is refused', () => {
    assert.equal(
      configError(() => loadConfig(sources({ flags: { queueMaxBytes: '512KiB' } }))).message,
      'invalid --queue-max-bytes "512KiB": expected at least --batch-max-bytes (1MiB)',
    );
    assert.equal(
      configError(() => loadConfig(sources({ env: { KES_BATCH_MAX_BYTES: '32MiB' } }))).message,
      'invalid default of --queue-max-bytes "16MiB": expected at least --batch-max-bytes (32MiB)',
    );
    assert.equal(loadConfig(sources({ flags: { queueMaxBytes: '1MiB' } })).queueMaxBytes, 1024 * 1024);
  });

  it('the lease retry period, renew deadline and duration must be in increasing order', () => {
    assert.match(
      configError(() => loadConfig(sources({ flags: { leaseRetryPeriod: '10s' } }))).message,
      /^invalid --lease-retry-period "10s": expected less than --lease-renew-deadline \(10s\)$/,
    );
    assert.match(
      configError(() => loadConfig(sources({ flags: { leaseRenewDeadline: '15s' } }))).message,
      /^invalid --lease-renew-deadline "15s": expected less than --lease-duration \(15s\)$/,
    );
  });

  it('in a cluster with no checkpoint flag, the checkpoint defaults to a ConfigMap in POD_NAMESPACE', () => {
    const config = loadConfig(sources({ env: { KUBERNETES_SERVICE_HOST: '10.0.0.1', POD_NAMESPACE: 'monitoring' } }));
    assert.deepEqual(config.checkpointConfigmap, { namespace: 'monitoring', name: 'kube-event-shipper-checkpoint' });
    assert.equal(config.checkpointOrigin, 'in-cluster-default');
  });

  it('without POD_NAMESPACE, the in-cluster default takes the service account namespace file', () => {
    const files = { '/var/run/secrets/kubernetes.io/serviceaccount/namespace': 'observability\n' };
    const config = loadConfig(sources({ files, env: { KUBERNETES_SERVICE_HOST: '10.0.0.1' } }));
    assert.deepEqual(config.checkpointConfigmap, { namespace: 'observability', name: 'kube-event-shipper-checkpoint' });
  });

  it('a checkpoint flag wins over the in-cluster default', () => {
    const inCluster = { KUBERNETES_SERVICE_HOST: '10.0.0.1', POD_NAMESPACE: 'monitoring' };
    const withFile = loadConfig(sources({ env: inCluster, flags: { checkpointFile: '/data/cp.json' } }));
    assert.equal(withFile.checkpointConfigmap, undefined);
    assert.equal(withFile.checkpointOrigin, 'configured');
    const withConfigMap = loadConfig(sources({ env: { ...inCluster, KES_CHECKPOINT_CONFIGMAP: 'kes/mine' } }));
    assert.deepEqual(withConfigMap.checkpointConfigmap, { namespace: 'kes', name: 'mine' });
    assert.equal(withConfigMap.checkpointOrigin, 'configured');
  });

  it('outside a cluster, or in one whose namespace is unknown, there is no checkpoint', () => {
    const outside = loadConfig(sources({ env: { POD_NAMESPACE: 'monitoring' } }));
    assert.equal(outside.checkpointConfigmap, undefined);
    assert.equal(outside.checkpointOrigin, 'none');
    const unknownNamespace = loadConfig(sources({ env: { KUBERNETES_SERVICE_HOST: '10.0.0.1' } }));
    assert.equal(unknownNamespace.checkpointConfigmap, undefined);
    assert.equal(unknownNamespace.checkpointOrigin, 'none');
  });

  it('the option catalogue and the schema name the same keys', () => {
    assert.deepEqual(OPTION_SPECS.map((s) => s.key).sort(), Object.keys(configSchema.shape).sort());
    assert.equal(flagName('lokiInsecureSkipVerify'), '--loki-insecure-skip-verify');
    assert.equal(envName('checkpointConfigmap'), 'KES_CHECKPOINT_CONFIGMAP');
  });
});
