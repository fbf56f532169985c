/**
 * The long-running part of `run`: the observe server, then the work — directly, or only while
 * holding the Lease with `--leader-elect` — until the shutdown signal.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { createKubeRequest } from '../kube/request.js';
import { createLeaderElector, UNCONTESTED_TERM, type LeaderWork } from '../ha/leader-election.js';
import { DESTINATION_PROBE_INTERVAL_MS, runDestinationProbe, type DestinationProbeResult } from '../observe/destination-probe.js';
import { startObserveServer } from '../observe/server.js';
import type { Runtime } from './runtime.js';

export interface ServeDeps {
  /** Only needed with `--leader-elect`. */
  readonly kubeConfig: () => KubeConfig;
  /** Asks the destination whether it is ready (Loki's `/ready`); absent for stdout, which is always reachable. */
  readonly probeDestination?: () => Promise<DestinationProbeResult>;
}

export async function serve(rt: Runtime, work: LeaderWork, signal: AbortSignal, deps: ServeDeps): Promise<void> {
  const { config, logger, metrics, health } = rt;
  const server = await startObserveServer(config.listen, { registry: metrics.registry, health, logger });
  const stopProbe = new AbortController();
  const stop = (): void => stopProbe.abort();
  signal.addEventListener('abort', stop, { once: true });
  const probing = deps.probeDestination
    ? runDestinationProbe(DESTINATION_PROBE_INTERVAL_MS, { probe: deps.probeDestination, health, clock: rt.clock, logger }, stopProbe.signal)
    : Promise.resolve();
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
        await work(signal, UNCONTESTED_TERM);
      } finally {
        health.setActive(false);
      }
    }
  } finally {
    signal.removeEventListener('abort', stop);
    stopProbe.abort();
    await probing;
    await server.close();
  }
}
