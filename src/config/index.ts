export { DEFAULT_CHECKPOINT_CONFIGMAP_NAME, loadConfig, redactConfig, SERVICE_ACCOUNT_NAMESPACE_FILE, type CheckpointOrigin, type Config, type ConfigSources } from './load.js';
export { OPTION_SPECS, envName, flagName, PASSWORD_ENV, type OptionSpec, type OptionGroup } from './options.js';
export type { InitialPolicy, ListenAddress, NamespacedName } from './parse.js';
export { parseDuration, parseByteSize } from './parse.js';
