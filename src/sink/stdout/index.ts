export { createStdoutSink, type OutputClosed, type StdoutSinkDeps } from './stdout-sink.js';
