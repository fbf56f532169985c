/**
 * The long-running part of `run`: the observe server, then the work — directly, or only while
 * holding the Lease with `--leader-elect` — until the shutdown signal.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { createKubeRequest } from '../../kube/request.js';
import { createLeaderElector, type LeaderWork } from '../../ha/leader-election.js';
import { startObserveServer } from '../../observe/server.js';
import type { Runtime } from '../runtime.js';

export interface ServeDeps {
  /** Only needed with `--leader-elect`. */
  readonly kubeConfig: () => KubeConfig;
}

export async function serve(rt: Runtime, work: LeaderWork, signal: AbortSignal, deps: ServeDeps): Promise<void> {
  const { config, logger, metrics, health } = rt;
  const server = await startObserveServer(config.listen, { registry: metrics.registry, health, logger });
  try {
    if (config.leaderElect && config.lease) {
      const elector = createLeaderElector(
        {
          namespace: config.lease.namespace,
          name: config.lease.name,
          identity: config.identity,
          leaseDurationMs: config.leaseDuration,
          renewDeadlineMs: config.leaseRenewDeadline,
          retryPeriodMs: config.leaseRetryPeriod,
        },
        {
          request: createKubeRequest(deps.kubeConfig()),
          clock: rt.clock,
          random: rt.random,
          logger,
          metrics,
          onLeading: (leading) => health.setActive(leading),
        },
      );
      await elector.runWhileLeader(work, signal);
    } else {
      metrics.leader.set(1);
      health.setActive(true);
      try {
        await work(signal);
      } finally {
        health.setActive(false);
      }
    }
  } finally {
    await server.close();
  }
}
