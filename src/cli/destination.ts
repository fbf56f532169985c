/**
 * Where `run` and `replay` send entries: Loki with `--loki-url`, else stdout. The end of stdout
 * (the reader closed the pipe, or the stream failed) stops a command like a shutdown.
 */
import type { Config } from '../config/index.js';
import type { EntrySink } from '../core/entry.js';
import type { ProgressListener } from '../core/progress.js';
import { createLokiSink } from '../sink/loki/index.js';
import { createStdoutSink, type OutputClosed } from '../sink/stdout/index.js';
import { EXIT_FAILURE, EXIT_OK } from './exit-codes.js';
import type { CliIo } from './program.js';
import type { Runtime } from './runtime.js';
import { commandSinkOptions, type SinkCommand } from './sink-options.js';

/** Where entries go: Loki with a URL, else stdout. */
export function createSink(command: SinkCommand, config: Config, io: CliIo, rt: Runtime, progress: ProgressListener, output: OutputEnd): EntrySink {
  const deps = { metrics: rt.metrics, logger: rt.logger, clock: rt.clock, random: rt.random, progress };
  if (config.lokiUrl !== undefined) return createLokiSink(commandSinkOptions(command, config, config.lokiUrl), deps);
  return createStdoutSink(io.stdout, { ...deps, onOutputClosed: output.end });
}

/**
 * The end of stdout (the reader closed the pipe, or the stream failed) stops a command like a
 * shutdown: `signal` aborts, and the exit code says how the output ended.
 */
export interface OutputEnd {
  readonly signal: AbortSignal;
  readonly end: (closed: OutputClosed) => void;
  /** A closed pipe is the ordinary end for a Unix filter (0); any other stream failure is 1. */
  exitCode(otherwise: number): number;
}

export function outputEnd(): OutputEnd {
  const controller = new AbortController();
  let closed: OutputClosed | undefined;
  return {
    signal: controller.signal,
    end: (c) => {
      closed ??= c;
      controller.abort(new Error(`stdout closed (${c.code ?? 'unknown'})`));
    },
    exitCode: (otherwise) => (closed === undefined ? otherwise : closed.readerGone ? EXIT_OK : EXIT_FAILURE),
  };
}
