/** The sinks' public API: where entries go (Loki, or stdout for a first try). */
export * from './loki/index.js';
export { createStdoutSink, type OutputClosed, type StdoutSinkDeps } from './stdout/index.js';
