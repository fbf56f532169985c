/**
 * Loads the configuration once at start-up: flags > environment (`KES_…`) > YAML file (`--config`,
 * camelCase keys) > defaults, validated by the one schema into a deeply frozen `Config`. Secrets
 * are read here, at the edge, and nowhere else. Every failure is one `ConfigError` line naming the
 * key as the user wrote it, the value, and what was expected.
 */
import { randomUUID } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import { envName, flagName, OPTION_SPECS, PASSWORD_ENV } from './options.js';
import { configSchema, HEADER_NAME, type ParsedOptions } from './schema.js';

export type DeepReadonly<T> = T extends (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

/** Everything the shipper is configured with; secrets included, so dump it only through `redactConfig`. */
export type Config = DeepReadonly<
  Omit<ParsedOptions, 'identity'> & {
    /** Holder identity for leader election: the option, else `<host name>_<random UUID>` (unique per process). */
    identity: string;
    /** Basic auth password, from `--loki-password-file` or `KES_LOKI_PASSWORD`. */
    lokiPassword?: string;
    /** Bearer token, from `--loki-bearer-token-file`. */
    lokiBearerToken?: string;
    /** PEM contents of `--loki-ca-file`, `--loki-cert-file`, `--loki-key-file`. */
    lokiTls: { ca?: string; cert?: string; key?: string };
    /** Where the checkpoint store came from: a flag (or env/file), the in-cluster default, or none at all. */
    checkpointOrigin: CheckpointOrigin;
  }
>;

export type CheckpointOrigin = 'configured' | 'in-cluster-default' | 'none';

/** The ConfigMap a shipper running in a cluster keeps its checkpoint in unless told otherwise. */
export const DEFAULT_CHECKPOINT_CONFIGMAP_NAME = 'kube-event-shipper-checkpoint';
export const SERVICE_ACCOUNT_NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

/**
 * The pod's namespace when running in a cluster (`KUBERNETES_SERVICE_HOST` set): `POD_NAMESPACE`,
 * else the service account's namespace file. Undefined outside a cluster or when neither is there.
 */
function inClusterNamespace(sources: ConfigSources): string | undefined {
  if ((sources.env['KUBERNETES_SERVICE_HOST'] ?? '') === '') return undefined;
  let namespace = (sources.env['POD_NAMESPACE'] ?? '').trim();
  if (namespace === '') {
    try {
      namespace = sources.readFile(SERVICE_ACCOUNT_NAMESPACE_FILE).trim();
    } catch {
      return undefined;
    }
  }
  return /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(namespace) && namespace.length <= 63 ? namespace : undefined;
}

export interface ConfigSources {
  /** Parsed command-line options by camelCase key (commander's `opts()`); absent when not given. */
  readonly flags: Readonly<Record<string, unknown>>;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly readFile: (path: string) => string;
  readonly hostname: string;
  /**
   * Makes the default identity unique per process (`<hostname>_<instanceId>`, as client-go does):
   * two replicas on one host must not both believe they hold the Lease. A random UUID when absent.
   */
  readonly instanceId?: string;
}

type Origin = { readonly kind: 'flag' | 'env' | 'default' } | { readonly kind: 'file'; readonly path: string };

function describe(key: string, origin: Origin): string {
  switch (origin.kind) {
    case 'flag':
      return flagName(key);
    case 'env':
      return envName(key);
    case 'file':
      return `${key} in ${origin.path}`;
    case 'default':
      return `default of ${flagName(key)}`;
  }
}

/** A URL with its user info (user name and password) replaced, also when it does not parse. */
function redactUrl(text: string): string {
  return text.replace(/^((?:[a-zA-Z][a-zA-Z0-9+.-]*:)?\/\/)?[^/?#]*@/, '$1<redacted>@');
}

/** Header names only: values often carry tokens; an item without "=" may be a secret as a whole. */
function headerNames(value: unknown): string {
  const names =
    typeof value === 'string'
      ? value
          .split(',')
          .map((item) => item.trim())
          .filter((item) => item !== '')
          .map((item) => {
            const name = item.indexOf('=') > 0 ? item.slice(0, item.indexOf('=')).trim() : undefined;
            if (name === undefined) return '<item without "=">';
            return HEADER_NAME.test(name) ? name : '<invalid name>';
          })
      : value !== null && typeof value === 'object' && !Array.isArray(value)
        ? Object.keys(value)
        : ['<value>'];
  return `(header names: ${names.join(', ') || 'none'})`;
}

/** The value as it may appear in an error: never a secret. */
function showValue(key: string, value: unknown): string {
  if (key === 'lokiHeaders') return headerNames(value);
  if (key === 'lokiUrl' && typeof value === 'string') return show(redactUrl(value));
  return show(value);
}

function show(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value) ?? String(value);
  return text.length > 80 ? text.slice(0, 77) + '...' : text;
}

function readConfigFile(path: string, readFile: (path: string) => string): Record<string, unknown> {
  let text: string;
  try {
    text = readFile(path);
  } catch (err) {
    throw new ConfigError(`cannot read config file ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    const reason = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new ConfigError(`config file ${path} is not valid YAML: ${reason}`, { cause: err });
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new ConfigError(`config file ${path} must be a mapping of camelCase keys to values`);
  }
  const known = new Set(OPTION_SPECS.map((spec) => spec.key));
  for (const key of Object.keys(doc)) {
    if (key === 'config' || !known.has(key)) {
      const camel = key.replace(/[-_]+([a-zA-Z])/g, (_, c: string) => c.toUpperCase());
      const hint = key !== camel && known.has(camel) ? `; did you mean ${camel}?` : '';
      throw new ConfigError(`unknown key ${JSON.stringify(key)} in config file ${path}: expected a camelCase option name such as lokiUrl${hint}`);
    }
  }
  return doc as Record<string, unknown>;
}

function readSecretFile(path: string, what: string, readFile: (path: string) => string): string {
  let text: string;
  try {
    text = readFile(path);
  } catch (err) {
    throw new ConfigError(`cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
  }
  const secret = text.replace(/\r?\n$/, '');
  if (secret === '') throw new ConfigError(`${what} ${path} is empty: expected the secret on its first line`);
  return secret;
}

function firstIssueMessage(error: z.ZodError): { key: string; message: string } {
  const issue = error.issues[0];
  const key = typeof issue?.path[0] === 'string' ? issue.path[0] : '';
  return { key, message: issue?.message ?? 'invalid value' };
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

export function loadConfig(sources: ConfigSources): Config {
  const env = (key: string): string | undefined => {
    const value = sources.env[envName(key)];
    return value === undefined || value === '' ? undefined : value;
  };
  const flagConfig = sources.flags['config'];
  const configPath = typeof flagConfig === 'string' && flagConfig !== '' ? flagConfig : env('config');
  const file = configPath !== undefined ? readConfigFile(configPath, sources.readFile) : {};

  const raw: Record<string, unknown> = {};
  const origins = new Map<string, Origin>();
  for (const spec of OPTION_SPECS) {
    const fromFlag = sources.flags[spec.key];
    const fromEnv = env(spec.key);
    if (fromFlag !== undefined) {
      raw[spec.key] = fromFlag;
      origins.set(spec.key, { kind: 'flag' });
    } else if (fromEnv !== undefined) {
      raw[spec.key] = fromEnv;
      origins.set(spec.key, { kind: 'env' });
    } else if (spec.key in file && file[spec.key] !== null) {
      raw[spec.key] = file[spec.key];
      origins.set(spec.key, { kind: 'file', path: configPath ?? '' });
    } else if (spec.default !== undefined) {
      raw[spec.key] = spec.default;
      origins.set(spec.key, { kind: 'default' });
    }
  }

  const result = configSchema.safeParse(raw);
  if (!result.success) {
    const { key, message } = firstIssueMessage(result.error);
    const origin = origins.get(key) ?? { kind: 'default' };
    throw new ConfigError(`invalid ${describe(key, origin)} ${showValue(key, raw[key])}: ${message}`);
  }
  const options = result.data;
  const name = (key: string): string => describe(key, origins.get(key) ?? { kind: 'default' });

  if (options.leaderElect && options.lease === undefined) {
    throw new ConfigError(`${name('leaderElect')} is on but --lease is not set: expected NAMESPACE/NAME of a Lease`);
  }
  if (options.checkpointFile !== undefined && options.checkpointConfigmap !== undefined) {
    throw new ConfigError(`${name('checkpointFile')} and ${name('checkpointConfigmap')} are both set: expected at most one checkpoint store`);
  }
  if ((options.lokiCertFile === undefined) !== (options.lokiKeyFile === undefined)) {
    throw new ConfigError('--loki-cert-file and --loki-key-file go together: expected both or neither');
  }
  if (options.leaseRenewDeadline >= options.leaseDuration) {
    throw new ConfigError(`invalid ${name('leaseRenewDeadline')} ${show(raw['leaseRenewDeadline'])}: expected less than --lease-duration (${String(raw['leaseDuration'])})`);
  }
  if (options.leaseRetryPeriod >= options.leaseRenewDeadline) {
    throw new ConfigError(`invalid ${name('leaseRetryPeriod')} ${show(raw['leaseRetryPeriod'])}: expected less than --lease-renew-deadline (${String(raw['leaseRenewDeadline'])})`);
  }

  if (options.queueMaxBytes < options.batchMaxBytes) {
    // The queue must hold at least one full batch, or batches could never fill while producers wait.
    throw new ConfigError(`invalid ${name('queueMaxBytes')} ${show(raw['queueMaxBytes'])}: expected at least --batch-max-bytes (${String(raw['batchMaxBytes'])})`);
  }
  if (options.healthStallTimeout < options.stallTimeout) {
    // A watch that is allowed to stay quiet this long must not fail liveness first.
    throw new ConfigError(`invalid ${name('healthStallTimeout')} ${show(raw['healthStallTimeout'])}: expected at least --stall-timeout (${String(raw['stallTimeout'])})`);
  }

  const passwordFromEnv = sources.env[PASSWORD_ENV];
  if (options.lokiPasswordFile !== undefined && passwordFromEnv !== undefined && passwordFromEnv !== '') {
    throw new ConfigError(`${name('lokiPasswordFile')} and ${PASSWORD_ENV} are both set: expected one source for the Loki password`);
  }
  const lokiPassword =
    options.lokiPasswordFile !== undefined
      ? readSecretFile(options.lokiPasswordFile, 'Loki password file', sources.readFile)
      : passwordFromEnv !== undefined && passwordFromEnv !== ''
        ? passwordFromEnv
        : undefined;
  const lokiBearerToken =
    options.lokiBearerTokenFile !== undefined
      ? readSecretFile(options.lokiBearerTokenFile, 'Loki bearer token file', sources.readFile)
      : undefined;
  if ((options.lokiUsername === undefined) !== (lokiPassword === undefined)) {
    throw new ConfigError(`--loki-username and a password (--loki-password-file or ${PASSWORD_ENV}) go together: expected both or neither`);
  }
  if (lokiPassword !== undefined && lokiBearerToken !== undefined) {
    throw new ConfigError('basic auth and --loki-bearer-token-file are both set: expected one way to authenticate to Loki');
  }

  const readPem = (key: 'lokiCaFile' | 'lokiCertFile' | 'lokiKeyFile', what: string): string | undefined => {
    const path = options[key];
    return path === undefined ? undefined : readSecretFile(path, what, sources.readFile);
  };
  const ca = readPem('lokiCaFile', 'Loki CA file');
  const cert = readPem('lokiCertFile', 'Loki client certificate file');
  const key = readPem('lokiKeyFile', 'Loki client key file');
  const lokiTls = {
    ...(ca !== undefined ? { ca } : {}),
    ...(cert !== undefined ? { cert } : {}),
    ...(key !== undefined ? { key } : {}),
  };

  // In a cluster the checkpoint defaults to a ConfigMap in the shipper's namespace, so a restarted
  // pod resumes instead of skipping (--initial none) or re-shipping what happened meanwhile.
  let checkpointOrigin: CheckpointOrigin = 'configured';
  let checkpointConfigmap = options.checkpointConfigmap;
  if (options.checkpointFile === undefined && checkpointConfigmap === undefined) {
    const namespace = inClusterNamespace(sources);
    checkpointConfigmap = namespace !== undefined ? { namespace, name: DEFAULT_CHECKPOINT_CONFIGMAP_NAME } : undefined;
    checkpointOrigin = namespace !== undefined ? 'in-cluster-default' : 'none';
  }

  const config = {
    ...options,
    ...(checkpointConfigmap !== undefined ? { checkpointConfigmap } : {}),
    checkpointOrigin,
    lokiTls,
    identity: options.identity ?? `${sources.hostname}_${sources.instanceId ?? randomUUID()}`,
    ...(lokiPassword !== undefined ? { lokiPassword } : {}),
    ...(lokiBearerToken !== undefined ? { lokiBearerToken } : {}),
  };
  return deepFreeze(config);
}

const SECRET_KEYS = ['lokiPassword', 'lokiBearerToken'] as const;

/** A copy safe to print or log: secret values replaced, header values too (they often carry tokens). */
export function redactConfig(config: Config): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...config };
  for (const key of SECRET_KEYS) if (copy[key] !== undefined) copy[key] = '<redacted>';
  copy['lokiHeaders'] = Object.fromEntries(Object.keys(config.lokiHeaders).map((k) => [k, '<redacted>']));
  copy['lokiTls'] = Object.fromEntries(Object.keys(config.lokiTls).map((k) => [k, '<redacted>']));
  return copy;
}
