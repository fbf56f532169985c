export type { CheckpointOrigin, Config } from './config.js';
export { DEFAULT_CHECKPOINT_CONFIGMAP_NAME, loadConfig, SERVICE_ACCOUNT_NAMESPACE_FILE } from './load.js';
export { redactConfig } from './redact.js';
export type { ConfigSources } from './sources.js';
export { OPTION_SPECS, envName, flagName, PASSWORD_ENV, type OptionSpec, type OptionGroup } from './options.js';
export type { InitialPolicy, ListenAddress, NamespacedName } from './parse.js';
export { parseDuration, parseByteSize } from './parse.js';
