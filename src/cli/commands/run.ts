/**
 * `run`: the pipeline source → transform → sink as a unit of work that `serve` runs directly or
 * while leading. Each start builds a fresh sink and shipper, so a replica that lost the Lease and
 * wins it again resumes from the shared checkpoint rather than from stale memory.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { createCheckpointStore, type CheckpointStore } from '../../checkpoint/index.js';
import type { Config } from '../../config/index.js';
import type { EntrySink } from '../../core/entry.js';
import { ConfigError } from '../../core/errors.js';
import type { LeaderWork } from '../../ha/leader-election.js';
import { termCheckpointStore } from '../../ha/term-checkpoint.js';
import { createShipper, type ShipperOptions } from '../../pipeline/index.js';
import { parseMatchers, type Matcher } from '../../source/index.js';
import type { TransformOptions } from '../../transform/index.js';
import { createTransformer } from '../../transform/index.js';
import type { Runtime } from '../runtime.js';

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
