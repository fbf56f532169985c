/**
 * Keeps the health tracker's view of the destination current while no push proves it: at start-up
 * and then every `intervalMs`, unless a push succeeded within the last interval, ask the
 * destination whether it is ready (for Loki: `GET /ready` with the sink's own options). A quiet
 * cluster pushes nothing, so without this `/readyz` could not tell a reachable Loki from a dead one.
 */
import type { Logger } from 'pino';
import type { Clock } from '../core/clock.js';
import type { HealthTracker } from './health.js';

export const DESTINATION_PROBE_INTERVAL_MS = 15_000;

export type DestinationProbeResult = { readonly ready: true } | { readonly ready: false; readonly detail: string };

export interface DestinationProbeDeps {
  readonly probe: () => Promise<DestinationProbeResult>;
  readonly health: Pick<HealthTracker, 'destinationProbed' | 'lastDeliveryAt'>;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** Runs until `signal` aborts; never rejects. */
export async function runDestinationProbe(intervalMs: number, deps: DestinationProbeDeps, signal: AbortSignal): Promise<void> {
  const { clock, health, logger } = deps;
  let lastReady: boolean | undefined;
  while (!signal.aborted) {
    const delivered = health.lastDeliveryAt();
    if (delivered === undefined || clock.now() - delivered >= intervalMs) {
      let result: DestinationProbeResult;
      try {
        result = await deps.probe();
      } catch (err) {
        result = { ready: false, detail: err instanceof Error ? err.message : String(err) };
      }
      if (signal.aborted) return;
      health.destinationProbed(result.ready);
      // Log changes only: a probe every 15 s would otherwise flood the logs during an outage.
      if (result.ready !== lastReady) {
        if (result.ready) logger.info({}, 'destination ready');
        else logger.warn({ detail: result.detail }, 'destination not ready');
        lastReady = result.ready;
      }
    }
    try {
      await clock.sleep(intervalMs, signal);
    } catch {
      return;
    }
  }
}
