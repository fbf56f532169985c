/**
 * Where each option's value comes from: flags > environment (`KES_…`) > YAML file (`--config`,
 * camelCase keys) > defaults, all by the catalogue's keys. Each value keeps its origin, so an error
 * names the key as the user wrote it.
 */
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../core/errors.js';
import { envName, flagName, OPTION_SPECS } from './options.js';

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
  const known = new Set<string>(OPTION_SPECS.map((spec) => spec.key));
  for (const key of Object.keys(doc)) {
    if (key === 'config' || !known.has(key)) {
      const camel = key.replace(/[-_]+([a-zA-Z])/g, (_, c: string) => c.toUpperCase());
      const hint = key !== camel && known.has(camel) ? `; did you mean ${camel}?` : '';
      throw new ConfigError(`unknown key ${JSON.stringify(key)} in config file ${path}: expected a camelCase option name such as lokiUrl${hint}`);
    }
  }
  return doc as Record<string, unknown>;
}

export function readSecretFile(path: string, what: string, readFile: (path: string) => string): string {
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

export interface RawOptions {
  /** Each set option's value as given: text (flag, env, default) or a YAML native (file). */
  readonly raw: Readonly<Record<string, unknown>>;
  /** The option as the user wrote it: `--grace-period`, `KES_GRACE_PERIOD`, `gracePeriod in FILE`, `default of --grace-period`. */
  readonly name: (key: string) => string;
}

/** Each option's value from the first source that sets it; an empty env variable counts as unset. */
export function gatherOptions(sources: ConfigSources): RawOptions {
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
  return { raw, name: (key) => describe(key, origins.get(key) ?? { kind: 'default' }) };
}
