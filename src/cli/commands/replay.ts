/**
 * `replay <file|->`: ships the events of a file or stdin through the same transform and sink as
 * `run` (the replay pipeline is `pipeline/replay.ts`). Exit 0 only when every event read was
 * delivered; an unreadable input or an unreachable Loki is 1, a bad label set 2.
 */
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import type { Config } from '../../config/index.js';
import { ignoreProgress } from '../../core/progress.js';
import { replay } from '../../pipeline/replay.js';
import { probeLoki, type LokiProbeResult } from '../../sink/loki/index.js';
import { createTransformer } from '../../transform/index.js';
import { createSink, outputEnd } from '../destination.js';
import { EXIT_FAILURE, EXIT_OK } from '../exit-codes.js';
import type { CliIo } from '../program.js';
import { createRuntime } from '../runtime.js';
import { installShutdown } from '../shutdown.js';
import { drainBudget, lokiSinkOptions, transformOptions } from '../sink-options.js';
import { packageVersion } from '../version.js';

/**
 * Before `replay` reads any input: is Loki there at all? With a wrong or dead URL the sink's
 * bounded retries (growing delays) would take minutes to fail, saying nothing meanwhile; one
 * `GET /ready` answers in at most `--loki-timeout`. Only an unreachable Loki stops the replay: a
 * Loki that answers /ready with another status (starting up, or a gateway without /ready) may
 * still take pushes, so that is a warning and the sink's retries decide.
 *
 * Resolves with an exit code when the replay must not start, else undefined.
 */
async function lokiPreflight(url: string, io: CliIo, probe: () => Promise<LokiProbeResult>): Promise<number | undefined> {
  const result = await probe();
  if (result.kind === 'unreachable') {
    const detail = result.detail.split('\n')[0] ?? 'unreachable';
    io.stderr.write(`kube-event-shipper: cannot reach Loki at ${url} (--loki-url): ${detail}\n`);
    return EXIT_FAILURE;
  }
  if (result.kind === 'not_ready') {
    io.stderr.write(`kube-event-shipper: warning: Loki at ${url} answered /ready with ${result.statusCode}; replaying anyway\n`);
  }
  return undefined;
}

/** Opens the replay input, failing early and clearly on a missing or unreadable file. */
async function openInput(source: string, io: CliIo): Promise<Readable> {
  if (source === '-') return io.stdin;
  // Larger reads than the 64 KiB default: a quarter of the read calls for a big file, and more
  // lines per batch for the replay reader.
  const stream = createReadStream(source, { highWaterMark: 256 * 1024 });
  await new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', reject);
  });
  return stream;
}

export async function replayCommand(config: Config, source: string, io: CliIo): Promise<number> {
  // A bad label set is a usage error (exit 2) whether or not Loki is up: report it first.
  const options = transformOptions(config);
  const url = config.lokiUrl;
  if (url !== undefined) {
    const refused = await lokiPreflight(url, io, () => probeLoki(lokiSinkOptions(config, url)));
    if (refused !== undefined) return refused;
  }
  let input: Readable;
  try {
    input = await openInput(source, io);
  } catch (err) {
    io.stderr.write(`kube-event-shipper: cannot read ${source}: ${(err as NodeJS.ErrnoException).code ?? String(err)}\n`);
    return EXIT_FAILURE;
  }
  const rt = createRuntime(config, packageVersion());
  const shutdown = installShutdown({ gracePeriodMs: config.gracePeriod, logger: rt.logger, exit: (code) => process.exit(code) });
  const output = outputEnd();
  rt.logger.info({ source, destination: config.lokiUrl ?? 'stdout' }, 'replay started');
  try {
    const summary = await replay(
      input,
      {
        transformer: createTransformer(options, { now: () => rt.clock.now() }),
        sink: createSink('replay', config, io, rt, ignoreProgress, output),
        logger: rt.logger,
        metrics: rt.metrics,
        clock: rt.clock,
        progressOut: io.stderr,
        progressEveryMs: 5000,
        drainTimeoutMs: drainBudget(config.gracePeriod),
        // Loki refuses entries far behind their stream's newest; stdout streams as it reads.
        sortByTime: config.lokiUrl !== undefined,
        outOfOrderWindowMs: config.lokiOutOfOrderWindow,
      },
      AbortSignal.any([shutdown.signal, output.signal]),
    );
    return output.exitCode(summary.dropped > 0 || summary.malformed > 0 ? EXIT_FAILURE : EXIT_OK);
  } finally {
    shutdown.dispose();
  }
}
