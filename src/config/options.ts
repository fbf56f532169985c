/**
 * The option catalogue: every setting once, with its flag, env twin, default and help text. The CLI
 * builds its options from it, the loader reads env and file keys by it, and the schema
 * (`schema.ts`) validates the values it names.
 */

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
  /** Default in the textual form a user would write; parsed like any other value. */
  readonly default?: string;
  readonly choices?: readonly string[];
  /** Placeholder in help, e.g. `<url>`. */
  readonly placeholder?: string;
}

export const OPTION_SPECS: readonly OptionSpec[] = [
  { key: 'config', kind: 'path', group: 'general', placeholder: '<file>', description: 'YAML config file (keys in camelCase, e.g. lokiUrl)' },
  { key: 'logLevel', kind: 'enum', group: 'general', default: 'info', choices: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'], description: 'log level of the JSON logs on stderr' },

  { key: 'lokiUrl', kind: 'url', group: 'loki', placeholder: '<url>', description: 'Loki base URL, e.g. http://loki:3100 (without it, lines go to stdout)' },
  { key: 'tenant', kind: 'string', group: 'loki', placeholder: '<id>', description: 'Loki tenant (X-Scope-OrgID header)' },
  { key: 'lokiUsername', kind: 'string', group: 'loki', placeholder: '<name>', description: 'basic auth user name (password from --loki-password-file or KES_LOKI_PASSWORD)' },
  { key: 'lokiPasswordFile', kind: 'path', group: 'loki', placeholder: '<file>', description: 'file holding the basic auth password' },
  { key: 'lokiBearerTokenFile', kind: 'path', group: 'loki', placeholder: '<file>', description: 'file holding a bearer token for Loki' },
  { key: 'lokiHeaders', kind: 'map', group: 'loki', default: '', placeholder: '<k=v,...>', description: 'extra HTTP headers for Loki requests' },
  { key: 'lokiCaFile', kind: 'path', group: 'loki', placeholder: '<file>', description: 'CA bundle (PEM) to verify Loki' },
  { key: 'lokiCertFile', kind: 'path', group: 'loki', placeholder: '<file>', description: 'client certificate (PEM) for Loki' },
  { key: 'lokiKeyFile', kind: 'path', group: 'loki', placeholder: '<file>', description: 'client key (PEM) for Loki' },
  { key: 'lokiInsecureSkipVerify', kind: 'bool', group: 'loki', default: 'false', description: 'do not verify the Loki TLS certificate' },
  { key: 'lokiTimeout', kind: 'duration', group: 'loki', default: '10s', placeholder: '<duration>', description: 'timeout of one push request' },
  { key: 'batchMaxBytes', kind: 'bytes', group: 'loki', default: '1MiB', placeholder: '<size>', description: 'largest push body before compression' },
  { key: 'batchMaxEntries', kind: 'int', group: 'loki', default: '10000', placeholder: '<n>', description: 'most entries in one push' },
  { key: 'batchMaxWait', kind: 'duration', group: 'loki', default: '1s', placeholder: '<duration>', description: 'longest an entry waits for its batch to fill' },
  { key: 'lokiOutOfOrderWindow', kind: 'duration', group: 'loki', default: '1h', placeholder: '<duration>', description: "Loki's out-of-order window per stream (max_chunk_age/2); an entry that much older than its stream's newest is moved to the edge, its true time kept in the line" },
  { key: 'queueMaxBytes', kind: 'bytes', group: 'loki', default: '16MiB', placeholder: '<size>', description: 'sink queue size; when full, reading events pauses' },

  { key: 'lineFormat', kind: 'enum', group: 'transform', default: 'logfmt', choices: ['logfmt', 'json'], description: 'format of the log line' },
  { key: 'labels', kind: 'list', group: 'transform', default: 'namespace,reason,type,kind,source', placeholder: '<names>', description: 'event fields used as stream labels' },
  { key: 'staticLabels', kind: 'map', group: 'transform', default: 'job=kube-event-shipper', placeholder: '<k=v,...>', description: 'labels added to every stream, e.g. cluster=prod; merged over job=kube-event-shipper (job=other replaces it)' },
  { key: 'structuredMetadata', kind: 'bool', group: 'transform', default: 'true', description: 'attach object_name, object_uid, node, event_uid, level, occurrences as structured metadata (Loki schema v13)' },
  { key: 'maxMessageBytes', kind: 'bytes', group: 'transform', default: '32KiB', placeholder: '<size>', description: 'longer event messages are truncated' },
  { key: 'acceptWindow', kind: 'duration', group: 'transform', default: '6d', placeholder: '<duration>', description: 'older event times are clamped to now minus this (Loki rejects entries older than 7d)' },

  { key: 'kubeconfig', kind: 'path', group: 'kube', placeholder: '<file>', description: 'kubeconfig file (default: KUBECONFIG, then ~/.kube/config, then in-cluster)' },
  { key: 'context', kind: 'string', group: 'kube', placeholder: '<name>', description: 'kubeconfig context' },
  { key: 'api', kind: 'enum', group: 'kube', default: 'core/v1', choices: ['core/v1', 'events.k8s.io/v1'], description: 'which Events API to read' },

  { key: 'namespaces', kind: 'list', group: 'source', default: '', placeholder: '<list>', description: 'only these namespaces (empty: all)' },
  { key: 'excludeNamespaces', kind: 'list', group: 'source', default: '', placeholder: '<list>', description: 'leave these namespaces out' },
  { key: 'fieldSelector', kind: 'string', group: 'source', placeholder: '<selector>', description: 'server-side field selector, e.g. type=Warning' },
  { key: 'types', kind: 'list', group: 'source', default: '', placeholder: '<list>', description: 'only these event types, e.g. Warning (empty: all)' },
  { key: 'reasons', kind: 'list', group: 'source', default: '', placeholder: '<list>', description: 'only these reasons (empty: all)' },
  { key: 'kinds', kind: 'list', group: 'source', default: '', placeholder: '<list>', description: 'only events about these object kinds (empty: all)' },
  { key: 'initial', kind: 'initial', group: 'source', default: 'none', placeholder: '<none|all|age>', description: 'on a first start (no checkpoint): ship existing events none, all, or younger than an age like 2h' },
  { key: 'pageSize', kind: 'int', group: 'source', default: '500', placeholder: '<n>', description: 'items per list page' },
  { key: 'stallTimeout', kind: 'duration', group: 'source', default: '10m', placeholder: '<duration>', description: 'restart a watch that delivered nothing for this long' },
  { key: 'checkpointFile', kind: 'path', group: 'source', placeholder: '<file>', description: 'keep the checkpoint in this file' },
  { key: 'checkpointConfigmap', kind: 'namespacedName', group: 'source', placeholder: '<ns/name>', description: 'keep the checkpoint in this ConfigMap (in a cluster without a checkpoint flag: <pod namespace>/kube-event-shipper-checkpoint)' },
  { key: 'checkpointInterval', kind: 'duration', group: 'source', default: '10s', placeholder: '<duration>', description: 'how often the checkpoint is written' },

  { key: 'listen', kind: 'listen', group: 'runtime', default: ':8080', placeholder: '<addr>', description: 'address of the /metrics, /healthz, /readyz server' },
  { key: 'healthStallTimeout', kind: 'duration', group: 'runtime', default: '15m', placeholder: '<duration>', description: '/healthz fails after this long without any progress' },
  { key: 'leaderElect', kind: 'bool', group: 'runtime', default: 'false', description: 'run only while holding the Lease given by --lease' },
  { key: 'lease', kind: 'namespacedName', group: 'runtime', placeholder: '<ns/name>', description: 'Lease used for leader election' },
  { key: 'leaseDuration', kind: 'duration', group: 'runtime', default: '15s', placeholder: '<duration>', description: 'how long a lease is valid without renewal' },
  { key: 'leaseRenewDeadline', kind: 'duration', group: 'runtime', default: '10s', placeholder: '<duration>', description: 'the leader gives up when it could not renew for this long' },
  { key: 'leaseRetryPeriod', kind: 'duration', group: 'runtime', default: '2s', placeholder: '<duration>', description: 'how often to try to acquire or renew the lease' },
  { key: 'identity', kind: 'string', group: 'runtime', placeholder: '<id>', description: 'holder identity in the Lease; unset: POD_NAME, HOSTNAME or the host name, plus _<random UUID>' },
  { key: 'gracePeriod', kind: 'duration', group: 'runtime', default: '25s', placeholder: '<duration>', description: 'on SIGTERM/SIGINT: time to flush, checkpoint and release the lease' },
];

/** The one secret that only comes from the environment (or from --loki-password-file). */
export const PASSWORD_ENV = 'KES_LOKI_PASSWORD';

/** `lokiUrl` → `--loki-url`. */
export function flagName(key: string): string {
  return '--' + key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
}

/** `lokiUrl` → `KES_LOKI_URL`. */
export function envName(key: string): string {
  return 'KES_' + key.replace(/[A-Z]/g, (c) => '_' + c).toUpperCase();
}
