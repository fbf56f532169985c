/**
 * `run` (the default command): the pipeline source → transform → sink as a unit of work that
 * `serve` runs directly or while leading. Each start builds a fresh sink and shipper, so a replica
 * that lost the Lease and wins it again resumes from the shared checkpoint rather than from stale
 * memory. The Kubernetes client loads with this command, not with the program: replay and
 * dashboards never need it.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { createCheckpointStore, type CheckpointStore } from '../../checkpoint/index.js';
import type { Config } from '../../config/index.js';
import { redactConfig } from '../../config/index.js';
import type { EntrySink } from '../../core/entry.js';
import { ConfigError } from '../../core/errors.js';
import type { LeaderWork } from '../../ha/leader-election.js';
import { termCheckpointStore } from '../../ha/term-checkpoint.js';
import type { DestinationProbeResult } from '../../observe/destination-probe.js';
import { createShipper, parseMatchers, type Matcher, type ShipperOptions } from '../../pipeline/index.js';
import { probeLoki } from '../../sink/loki/index.js';
import type { TransformOptions } from '../../transform/index.js';
import { createTransformer } from '../../transform/index.js';
import { createSink, outputEnd } from '../destination.js';
import { EXIT_OK } from '../exit-codes.js';
import { loadKubeConfig } from '../kube.js';
import type { CliIo } from '../program.js';
import { createRuntime, type Runtime } from '../runtime.js';
import { serve } from '../serve.js';
import { installShutdown } from '../shutdown.js';
import { drainBudget, lokiSinkOptions, transformOptions } from '../sink-options.js';
import { packageVersion } from '../version.js';

function matchers(flag: string, values: readonly string[]): Matcher[] {
  try {
    return parseMatchers(values.join(','));
  } catch (err) {
    throw new ConfigError(`invalid ${flag} ${JSON.stringify(values.join(','))}: expected exact values or /regular expressions/ (${err instanceof Error ? err.message : String(err)})`);
  }
}

/** Validates what only the pipeline understands (regex filters) before anything starts; throws ConfigError. */
export function shipperOptions(config: Config, drainTimeoutMs: number): ShipperOptions {
  return {
    source: {
      api: config.api,
      namespaces: config.namespaces,
      excludeNamespaces: config.excludeNamespaces,
      ...(config.fieldSelector !== undefined ? { fieldSelector: config.fieldSelector } : {}),
      pageSize: config.pageSize,
      initial: config.initial,
      stallTimeoutMs: config.stallTimeout,
    },
    filters: {
      types: matchers('--types', config.types),
      reasons: matchers('--reasons', config.reasons),
      kinds: matchers('--kinds', config.kinds),
    },
    checkpointIntervalMs: config.checkpointInterval,
    drainTimeoutMs,
    outOfOrderWindowMs: config.lokiOutOfOrderWindow,
  };
}

function checkpointStore(config: Config, kubeConfig: KubeConfig): CheckpointStore | undefined {
  return createCheckpointStore({ file: config.checkpointFile, configMap: config.checkpointConfigmap }, { kubeConfig });
}

export interface PipelineWorkDeps {
  readonly rt: Runtime;
  readonly kubeConfig: KubeConfig;
  readonly transformOptions: TransformOptions;
  readonly options: ShipperOptions;
  readonly createSink: () => EntrySink;
}

export function pipelineWork(deps: PipelineWorkDeps): LeaderWork {
  const { rt } = deps;
  return async (signal, term) => {
    const store = checkpointStore(rt.config, deps.kubeConfig);
    const shipper = createShipper(deps.options, {
      kubeConfig: deps.kubeConfig,
      sink: deps.createSink(),
      transformer: createTransformer(deps.transformOptions, { now: () => rt.clock.now() }),
      // While leading, the checkpoint belongs to this term: not written any more once the Lease is
      // lost, even when that happens while draining after a shutdown.
      checkpoint: store && rt.config.leaderElect ? termCheckpointStore(store, term.lost, rt.logger) : store,
      metrics: rt.metrics,
      logger: rt.logger,
      clock: rt.clock,
      random: rt.random,
      progress: rt.health,
    });
    rt.logger.info({ api: rt.config.api, namespaces: rt.config.namespaces, destination: rt.config.lokiUrl ?? 'stdout' }, 'pipeline starting');
    await shipper.run(signal);
    rt.logger.info({}, 'pipeline stopped');
  };
}

/** Loki's `/ready`, asked with the sink's own options (auth, tenant, TLS, timeout). */
async function probeDestination(config: Config, url: string): Promise<DestinationProbeResult> {
  const result = await probeLoki(lokiSinkOptions(config, url));
  if (result.kind === 'ready') return { ready: true };
  if (result.kind === 'not_ready') return { ready: false, detail: `/ready answered ${result.statusCode}` };
  return { ready: false, detail: result.detail.split('\n')[0] ?? 'unreachable' };
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

export async function runCommand(config: Config, io: CliIo): Promise<number> {
  const transform = transformOptions(config);
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
