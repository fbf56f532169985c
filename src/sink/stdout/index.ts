export { createStdoutSink, type StdoutSinkDeps } from './stdout-sink.js';
