/**
 * Loads the configuration once at start-up: each option from its first source (`sources.ts`),
 * validated by the one schema (`schema.ts`) and the catalogue's rules between options into a
 * deeply frozen `Config`. Secrets are read here, at the edge, and nowhere else. Every failure is
 * one `ConfigError` line naming the key as the user wrote it, the value, and what was expected.
 */
import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import type { CheckpointOrigin, Config } from './config.js';
import { flagName, OPTION_SPECS, PASSWORD_ENV } from './options.js';
import { show, showValue } from './redact.js';
import { parseOptions, type ParsedOptions } from './schema.js';
import { gatherOptions, readSecretFile, type ConfigSources, type RawOptions } from './sources.js';

export type { CheckpointOrigin, Config } from './config.js';
export type { ConfigSources } from './sources.js';
export { redactConfig } from './redact.js';

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

/** The catalogue's order between two options (`lessThan`, then `atLeast`), each valid on its own by now. */
function checkOrderings(options: ParsedOptions, { raw, name }: RawOptions): void {
  const value = (key: string): number => (options as Readonly<Record<string, unknown>>)[key] as number;
  const rules = [
    { bound: 'lessThan', holds: (a: number, b: number) => a < b, expected: 'less than' },
    { bound: 'atLeast', holds: (a: number, b: number) => a >= b, expected: 'at least' },
  ] as const;
  for (const rule of rules) {
    for (const spec of OPTION_SPECS) {
      const other = spec[rule.bound];
      if (other === undefined || rule.holds(value(spec.key), value(other))) continue;
      throw new ConfigError(`invalid ${name(spec.key)} ${show(raw[spec.key])}: expected ${rule.expected} ${flagName(other)} (${String(raw[other])})`);
    }
  }
}

/** Options that go together or exclude each other. */
function checkCombinations(options: ParsedOptions, name: (key: string) => string): void {
  if (options.leaderElect && options.lease === undefined) {
    throw new ConfigError(`${name('leaderElect')} is on but --lease is not set: expected NAMESPACE/NAME of a Lease`);
  }
  if (options.checkpointFile !== undefined && options.checkpointConfigmap !== undefined) {
    throw new ConfigError(`${name('checkpointFile')} and ${name('checkpointConfigmap')} are both set: expected at most one checkpoint store`);
  }
  if ((options.lokiCertFile === undefined) !== (options.lokiKeyFile === undefined)) {
    throw new ConfigError('--loki-cert-file and --loki-key-file go together: expected both or neither');
  }
}

/** The secrets behind the `--loki-…-file` options and `KES_LOKI_PASSWORD`, read once. */
function readSecrets(options: ParsedOptions, sources: ConfigSources, name: (key: string) => string): Pick<Config, 'lokiPassword' | 'lokiBearerToken' | 'lokiTls'> {
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
  return {
    lokiTls,
    ...(lokiPassword !== undefined ? { lokiPassword } : {}),
    ...(lokiBearerToken !== undefined ? { lokiBearerToken } : {}),
  };
}

export function loadConfig(sources: ConfigSources): Config {
  const gathered = gatherOptions(sources);
  const { raw, name } = gathered;
  const result = parseOptions(raw);
  if (!result.success) {
    const { key, message } = firstIssueMessage(result.error);
    throw new ConfigError(`invalid ${name(key)} ${showValue(key, raw[key])}: ${message}`);
  }
  const options = result.data;
  checkCombinations(options, name);
  checkOrderings(options, gathered);
  const secrets = readSecrets(options, sources, name);

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
    lokiTls: secrets.lokiTls,
    identity: options.identity ?? `${sources.hostname}_${sources.instanceId ?? randomUUID()}`,
    ...(secrets.lokiPassword !== undefined ? { lokiPassword: secrets.lokiPassword } : {}),
    ...(secrets.lokiBearerToken !== undefined ? { lokiBearerToken: secrets.lokiBearerToken } : {}),
  };
  return deepFreeze(config);
}
