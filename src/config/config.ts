/** The configuration every command runs with: the validated options plus what start-up reads from them. */
import type { ParsedOptions } from './schema.js';

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
