/**
 * The option catalogue: every setting once. Everything else is derived from it: the zod schema
 * (`schema.ts`: kind, bounds, optional without a default), the commander flags and their help
 * (`cli/program.ts`), the `KES_*` names and YAML keys (`load.ts`), the `Config` type, and the
 * reference `docs/configuration.md` (`reference.ts`, `npm run docs`).
 *
 * Data only, no zod: `--help` builds from it without loading the validator.
 */
import { MAX_MESSAGE_BYTES, MIN_ACCEPT_WINDOW_MS, MIN_MESSAGE_BYTES } from '../transform/options.js';

export type OptionKind =
  | 'string'
  | 'path'
  | 'url'
  | 'duration'
  | 'bytes'
  | 'int'
  | 'bool'
  | 'list'
  | 'map'
  | 'enum'
  | 'namespacedName'
  | 'initial'
  | 'listen';

/** Which commands take an option: `run` takes all of them. */
export type OptionGroup = 'general' | 'loki' | 'transform' | 'kube' | 'source' | 'runtime';

export interface OptionSpec {
  /** camelCase key: the YAML file key and the commander attribute name. */
  readonly key: string;
  readonly kind: OptionKind;
  readonly group: OptionGroup;
  readonly description: string;
  /** Default in the textual form a user would write; parsed like any other value. Without one the option is optional. */
  readonly default?: string;
  readonly choices?: readonly string[];
  /** Placeholder in help, e.g. `<url>`. */
  readonly placeholder?: string;
  /** Smallest value (durations in ms, sizes in bytes, counts): zero or tiny values turn timers and retries into busy loops. */
  readonly min?: number;
  /** Largest value, same units as `min`. */
  readonly max?: number;
  /** Must be less than this option's value. */
  readonly lessThan?: string;
  /** Must be at least this option's value. */
  readonly atLeast?: string;
  /**
   * `check` accepts it (the same command line, env and file as `run`) but does not use it: hidden
   * from `check --help`, which lists only what changes a verdict.
   */
  readonly unusedByCheck?: true;
  /** `check`'s own description, where the option means something else there. */
  readonly checkDescription?: string;
  /** An environment variable that gives the value itself instead (a secret with no flag). */
  readonly orEnv?: string;
  /**
   * What of the value is secret: `values` (a map's values: redacted in dumps, errors show the keys
   * only) or `credentials` (a URL's user info: never shown).
   */
  readonly secret?: 'values' | 'credentials';
}

/** The one secret that only comes from the environment (or from --loki-password-file). */
export const PASSWORD_ENV = 'KES_LOKI_PASSWORD';

const SECOND = 1000;
const MINUTE = 60 * SECOND;

const CATALOGUE = [
  { key: 'config', kind: 'path', group: 'general', placeholder: '<file>', description: 'YAML config file (keys in camelCase, e.g. lokiUrl)' },
  { key: 'logLevel', kind: 'enum', group: 'general', default: 'info', choices: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'], description: 'log level of the JSON logs on stderr' },

  { key: 'lokiUrl', kind: 'url', group: 'loki', secret: 'credentials', placeholder: '<url>', description: 'Loki base URL, e.g. http://loki:3100 (without it, lines go to stdout)', checkDescription: 'Loki base URL, e.g. http://loki:3100 (without it, the Loki checks are skipped)' },
  { key: 'tenant', kind: 'string', group: 'loki', placeholder: '<id>', description: 'Loki tenant (X-Scope-OrgID header)' },
  { key: 'lokiUsername', kind: 'string', group: 'loki', placeholder: '<name>', description: 'basic auth user name (password from --loki-password-file or KES_LOKI_PASSWORD)' },
  { key: 'lokiPasswordFile', kind: 'path', group: 'loki', orEnv: PASSWORD_ENV, placeholder: '<file>', description: 'file holding the basic auth password' },
  { key: 'lokiBearerTokenFile', kind: 'path', group: 'loki', placeholder: '<file>', description: 'file holding a bearer token for Loki' },
  { key: 'lokiHeaders', kind: 'map', group: 'loki', default: '', secret: 'values', placeholder: '<k=v,...>', description: 'extra HTTP headers for Loki requests' },
  { key: 'lokiCaFile', kind: 'path', group: 'loki', placeholder: '<file>', description: 'CA bundle (PEM) to verify Loki' },
  { key: 'lokiCertFile', kind: 'path', group: 'loki', placeholder: '<file>', description: 'client certificate (PEM) for Loki' },
  { key: 'lokiKeyFile', kind: 'path', group: 'loki', placeholder: '<file>', description: 'client key (PEM) for Loki' },
  { key: 'lokiInsecureSkipVerify', kind: 'bool', group: 'loki', default: 'false', description: 'do not verify the Loki TLS certificate' },
  { key: 'lokiTimeout', kind: 'duration', group: 'loki', default: '10s', min: 100, placeholder: '<duration>', description: 'timeout of one push request' },
  { key: 'batchMaxBytes', kind: 'bytes', group: 'loki', default: '1MiB', min: 1, unusedByCheck: true, placeholder: '<size>', description: 'largest push body before compression' },
  { key: 'batchMaxEntries', kind: 'int', group: 'loki', default: '10000', min: 1, unusedByCheck: true, placeholder: '<n>', description: 'most entries in one push' },
  { key: 'batchMaxWait', kind: 'duration', group: 'loki', default: '1s', min: 1, unusedByCheck: true, placeholder: '<duration>', description: 'longest an entry waits for its batch to fill' },
  // Loki's default is 1h (max_chunk_age 2h / 2); below a minute it is no longer a Loki setting.
  { key: 'lokiOutOfOrderWindow', kind: 'duration', group: 'loki', default: '1h', min: MINUTE, placeholder: '<duration>', description: "Loki's out-of-order window per stream (max_chunk_age/2); an entry that much older than its stream's newest is moved to the edge, its true time kept in the line" },
  // The queue must hold at least one full batch, or batches could never fill while producers wait.
  { key: 'queueMaxBytes', kind: 'bytes', group: 'loki', default: '16MiB', min: 1, atLeast: 'batchMaxBytes', unusedByCheck: true, placeholder: '<size>', description: 'sink queue size; when full, reading events pauses' },

  { key: 'lineFormat', kind: 'enum', group: 'transform', default: 'logfmt', choices: ['logfmt', 'json'], description: 'format of the log line' },
  { key: 'labels', kind: 'list', group: 'transform', default: 'namespace,reason,type,kind,source', placeholder: '<names>', description: 'event fields used as stream labels' },
  { key: 'staticLabels', kind: 'map', group: 'transform', default: 'job=kube-event-shipper', placeholder: '<k=v,...>', description: 'labels added to every stream, e.g. cluster=prod; merged over job=kube-event-shipper (job=other replaces it)' },
  { key: 'structuredMetadata', kind: 'bool', group: 'transform', default: 'true', description: 'attach object_name, object_uid, node, event_uid, level, occurrences as structured metadata (Loki schema v13)' },
  { key: 'maxMessageBytes', kind: 'bytes', group: 'transform', default: '32KiB', min: MIN_MESSAGE_BYTES, max: MAX_MESSAGE_BYTES, placeholder: '<size>', description: 'longer event messages are truncated' },
  // The clamp edge moves in whole hours.
  { key: 'acceptWindow', kind: 'duration', group: 'transform', default: '6d', min: MIN_ACCEPT_WINDOW_MS, placeholder: '<duration>', description: 'older event times are clamped to now minus this (Loki rejects entries older than 7d)' },

  { key: 'kubeconfig', kind: 'path', group: 'kube', placeholder: '<file>', description: 'kubeconfig file (default: KUBECONFIG, then ~/.kube/config, then in-cluster)' },
  { key: 'context', kind: 'string', group: 'kube', placeholder: '<name>', description: 'kubeconfig context' },
  { key: 'api', kind: 'enum', group: 'kube', default: 'core/v1', choices: ['core/v1', 'events.k8s.io/v1'], description: 'which Events API to read' },

  { key: 'namespaces', kind: 'list', group: 'source', default: '', placeholder: '<list>', description: 'only these namespaces (empty: all)' },
  { key: 'excludeNamespaces', kind: 'list', group: 'source', default: '', placeholder: '<list>', description: 'leave these namespaces out' },
  { key: 'fieldSelector', kind: 'string', group: 'source', placeholder: '<selector>', description: 'server-side field selector, e.g. type=Warning' },
  { key: 'types', kind: 'list', group: 'source', default: '', placeholder: '<list>', description: 'only these event types, e.g. Warning (empty: all)' },
  { key: 'reasons', kind: 'list', group: 'source', default: '', placeholder: '<list>', description: 'only these reasons (empty: all)' },
  { key: 'kinds', kind: 'list', group: 'source', default: '', placeholder: '<list>', description: 'only events about these object kinds (empty: all)' },
  { key: 'initial', kind: 'initial', group: 'source', default: 'none', unusedByCheck: true, placeholder: '<none|all|age>', description: 'on a first start (no checkpoint): ship existing events none, all, or younger than an age like 2h' },
  { key: 'pageSize', kind: 'int', group: 'source', default: '500', min: 1, unusedByCheck: true, placeholder: '<n>', description: 'items per list page' },
  { key: 'stallTimeout', kind: 'duration', group: 'source', default: '10m', min: SECOND, unusedByCheck: true, placeholder: '<duration>', description: 'restart a watch that delivered nothing for this long' },
  { key: 'checkpointFile', kind: 'path', group: 'source', placeholder: '<file>', description: 'keep the checkpoint in this file' },
  { key: 'checkpointConfigmap', kind: 'namespacedName', group: 'source', placeholder: '<ns/name>', description: 'keep the checkpoint in this ConfigMap (in a cluster without a checkpoint flag: <pod namespace>/kube-event-shipper-checkpoint)' },
  // 100ms rather than 1s: fast failover tests use sub-second intervals; 0 was a timer busy loop.
  { key: 'checkpointInterval', kind: 'duration', group: 'source', default: '10s', min: 100, unusedByCheck: true, placeholder: '<duration>', description: 'how often the checkpoint is written' },

  { key: 'listen', kind: 'listen', group: 'runtime', default: ':8080', unusedByCheck: true, placeholder: '<addr>', description: 'address of the /metrics, /healthz, /readyz server' },
  // A watch that is allowed to stay quiet this long must not fail liveness first.
  { key: 'healthStallTimeout', kind: 'duration', group: 'runtime', default: '15m', min: MINUTE, atLeast: 'stallTimeout', unusedByCheck: true, placeholder: '<duration>', description: '/healthz fails after this long without any progress' },
  { key: 'leaderElect', kind: 'bool', group: 'runtime', default: 'false', description: 'run only while holding the Lease given by --lease' },
  { key: 'lease', kind: 'namespacedName', group: 'runtime', placeholder: '<ns/name>', description: 'Lease used for leader election' },
  { key: 'leaseDuration', kind: 'duration', group: 'runtime', default: '15s', min: SECOND, unusedByCheck: true, placeholder: '<duration>', description: 'how long a lease is valid without renewal' },
  { key: 'leaseRenewDeadline', kind: 'duration', group: 'runtime', default: '10s', min: 200, lessThan: 'leaseDuration', unusedByCheck: true, placeholder: '<duration>', description: 'the leader gives up when it could not renew for this long' },
  { key: 'leaseRetryPeriod', kind: 'duration', group: 'runtime', default: '2s', min: 100, lessThan: 'leaseRenewDeadline', unusedByCheck: true, placeholder: '<duration>', description: 'how often to try to acquire or renew the lease' },
  { key: 'identity', kind: 'string', group: 'runtime', placeholder: '<id>', description: 'holder identity in the Lease; unset: POD_NAME, HOSTNAME or the host name, plus _<random UUID>' },
  { key: 'gracePeriod', kind: 'duration', group: 'runtime', default: '25s', min: SECOND, unusedByCheck: true, placeholder: '<duration>', description: 'on SIGTERM/SIGINT: time to flush, checkpoint and release the lease' },
] as const satisfies readonly OptionSpec[];

/** One entry with its literal types (kind, choices, whether it has a default), for deriving `Config`. */
export type CatalogueEntry = (typeof CATALOGUE)[number];

/** A catalogue key: `lokiUrl`, `gracePeriod`, … */
export type OptionKey = CatalogueEntry['key'];

/** The catalogue in order (help, reference), each entry seen as a plain `OptionSpec`. */
export const OPTION_SPECS: readonly (OptionSpec & { readonly key: OptionKey })[] = CATALOGUE;

/** The commands that read the configuration, and the option groups each takes. */
export const COMMAND_GROUPS = {
  run: ['general', 'loki', 'transform', 'kube', 'source', 'runtime'],
  replay: ['general', 'loki', 'transform'],
  check: ['general', 'loki', 'transform', 'kube', 'source', 'runtime'],
} as const satisfies Readonly<Record<string, readonly OptionGroup[]>>;

export type ConfiguredCommand = keyof typeof COMMAND_GROUPS;

/** `dashboards --out`: not part of the configuration (no YAML key), only a flag and its env twin. */
export const DASHBOARDS_OUT = { flag: '--out', env: 'KES_DASHBOARDS_OUT', default: 'dashboards' } as const;

/** `lokiUrl` → `--loki-url`. */
export function flagName(key: string): string {
  return '--' + key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
}

/** `lokiUrl` → `KES_LOKI_URL`. */
export function envName(key: string): string {
  return 'KES_' + key.replace(/[A-Z]/g, (c) => '_' + c).toUpperCase();
}
