/** The real command handlers, wiring config to the pipeline modules. */
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import type { EntrySink } from '../core/entry.js';
import { ignoreProgress, type ProgressListener } from '../core/progress.js';
import { createLokiSink, probeLoki } from '../sink/loki/index.js';
import { createStdoutSink, type OutputClosed } from '../sink/stdout/index.js';
import type { DestinationProbeResult } from '../observe/destination-probe.js';
import { createTransformer } from '../transform/index.js';
import { replay } from './commands/replay.js';
import { lokiPreflight } from './commands/replay-preflight.js';
import { installShutdown } from './shutdown.js';
import type { Runtime } from './runtime.js';
import { redactConfig } from '../config/index.js';
import { EXIT_FAILURE, EXIT_OK } from './exit-codes.js';
import { dashboardsCommand } from './commands/dashboards.js';
import type { CliIo, CommandHandlers } from './program.js';
import { pushProbe } from './commands/push-probe.js';
import { createRuntime } from './runtime.js';
import { commandSinkOptions, lokiSinkOptions, transformOptions, type SinkCommand } from './sink-options.js';
import { packageVersion } from './version.js';

async function check(config: Config, io: CliIo): Promise<number> {
  transformOptions(config);
  const [{ formatVerdict, runChecks }, { loadKubeConfig }] = await Promise.all([import('./commands/check.js'), import('./kube.js')]);
  const rt = createRuntime(config, packageVersion());
  const verdicts = await runChecks(config, {
    loadKubeConfig: () => loadKubeConfig(config),
    probeLoki: () => probeLoki(lokiSinkOptions(config, config.lokiUrl ?? '')),
    timeoutMs: Math.min(config.lokiTimeout, 10_000),
    pushProbe: () => pushProbe(config, config.lokiUrl ?? '', { ...rt, logger: rt.logger }),
  });
  for (const verdict of verdicts) io.stdout.write(formatVerdict(verdict) + '\n');
  if (config.logLevel === 'debug' || config.logLevel === 'trace') {
    io.stderr.write(JSON.stringify(redactConfig(config)) + '\n');
  }
  return verdicts.some((v) => v.status === 'FAIL') ? EXIT_FAILURE : EXIT_OK;
}

/** Where entries go: Loki with a URL, else stdout. */
function createSink(command: SinkCommand, config: Config, io: CliIo, rt: Runtime, progress: ProgressListener, output: OutputEnd): EntrySink {
  const deps = { metrics: rt.metrics, logger: rt.logger, clock: rt.clock, random: rt.random, progress };
  if (config.lokiUrl !== undefined) return createLokiSink(commandSinkOptions(command, config, config.lokiUrl), deps);
  return createStdoutSink(io.stdout, { ...deps, onOutputClosed: output.end });
}

/**
 * The end of stdout (the reader closed the pipe, or the stream failed) stops a command like a
 * shutdown: `signal` aborts, and the exit code says how the output ended.
 */
interface OutputEnd {
  readonly signal: AbortSignal;
  readonly end: (closed: OutputClosed) => void;
  /** A closed pipe is the ordinary end for a Unix filter (0); any other stream failure is 1. */
  exitCode(otherwise: number): number;
}

function outputEnd(): OutputEnd {
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

/** Loki's `/ready`, asked with the sink's own options (auth, tenant, TLS, timeout). */
async function probeDestination(config: Config, url: string): Promise<DestinationProbeResult> {
  const result = await probeLoki(lokiSinkOptions(config, url));
  if (result.kind === 'ready') return { ready: true };
  if (result.kind === 'not_ready') return { ready: false, detail: `/ready answered ${result.statusCode}` };
  return { ready: false, detail: result.detail.split('\n')[0] ?? 'unreachable' };
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

async function replayCommand(config: Config, source: string, io: CliIo): Promise<number> {
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

/** Says once, at start-up, where the checkpoint lives when no flag chose it. */
function logCheckpointChoice(config: Config, logger: Logger): void {
  if (config.checkpointOrigin === 'in-cluster-default' && config.checkpointConfigmap !== undefined) {
    const { namespace, name } = config.checkpointConfigmap;
    logger.info({ checkpointConfigmap: `${namespace}/${name}` }, 'in a cluster without a checkpoint flag: checkpoint kept in the default ConfigMap');
  } else if (config.checkpointOrigin === 'none') {
    logger.warn({}, 'no checkpoint (--checkpoint-file or --checkpoint-configmap): a restart will not resume where this run stopped');
  }
}

/** What the sink may spend draining: the grace period minus a margin for the checkpoint and the Lease. */
function drainBudget(gracePeriodMs: number): number {
  return Math.max(100, Math.min(gracePeriodMs - 3000, gracePeriodMs * 0.8));
}

async function runCommand(config: Config, io: CliIo): Promise<number> {
  const transform = transformOptions(config);
  // The Kubernetes client loads here, not with the program: replay and dashboards never need it.
  const [{ pipelineWork, shipperOptions }, { serve }, { loadKubeConfig }] = await Promise.all([import('./commands/run.js'), import('./commands/serve.js'), import('./kube.js')]);
  const options = shipperOptions(config, drainBudget(config.gracePeriod));
  const kubeConfig = loadKubeConfig(config);
  const rt = createRuntime(config, packageVersion());
  const shutdown = installShutdown({ gracePeriodMs: config.gracePeriod, logger: rt.logger, exit: (code) => process.exit(code) });
  const output = outputEnd();
  rt.logger.info({ identity: config.identity, leaderElect: config.leaderElect, listen: config.listen }, 'starting');
  rt.logger.debug({ config: redactConfig(config) }, 'configuration');
  logCheckpointChoice(config, rt.logger);
  if (config.leaderElect && config.checkpointConfigmap === undefined) {
    // Each replica would resume from its own (or no) checkpoint: a new leader relists and re-ships.
    rt.logger.warn({ checkpointFile: config.checkpointFile }, 'leader election without --checkpoint-configmap: replicas share no checkpoint');
  }
  try {
    const work = pipelineWork({ rt, kubeConfig, transformOptions: transform, options, createSink: () => createSink('run', config, io, rt, rt.health, output) });
    const lokiUrl = config.lokiUrl;
    await serve(rt, work, AbortSignal.any([shutdown.signal, output.signal]), {
      kubeConfig: () => kubeConfig,
      ...(lokiUrl !== undefined ? { probeDestination: () => probeDestination(config, lokiUrl) } : {}),
    });
    rt.logger.info({}, 'stopped');
    return output.exitCode(EXIT_OK);
  } finally {
    shutdown.dispose();
  }
}

export const handlers: CommandHandlers = {
  run: runCommand,
  replay: replayCommand,
  check,
  dashboards: dashboardsCommand,
};
