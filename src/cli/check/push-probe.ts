/**
 * The `loki push` item of `check`: one synthetic Normal event (reason `ShipperCheck`, about the
 * object `KubeEventShipper/<identity>`) goes through the real transform and the real Loki sink, so
 * the check covers labels, structured metadata (a Loki below schema v13 refuses it), tenant, auth
 * and TLS exactly as `run` uses them. It lands in Loki like any event; exclude it with
 * `reason!="ShipperCheck"`. No retries: a 429 or 5xx is reported, not waited out.
 */
import type { Logger } from 'pino';
import type { Config } from '../../config/index.js';
import type { Clock, Random } from '../../core/clock.js';
import type { DeliveryOutcome } from '../../core/entry.js';
import { ignoreProgress } from '../../core/progress.js';
import type { Metrics } from '../../observe/metrics.js';
import { createLokiSink } from '../../sink/loki/index.js';
import { createTransformer } from '../../transform/index.js';
import { lokiSinkOptions, transformOptions } from '../sink-options.js';

const CHECK_REASON = 'ShipperCheck';

export interface PushProbeDeps {
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly random: Random;
}

function checkEvent(identity: string, nowMs: number, random: Random): unknown {
  const time = new Date(nowMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const uid = `check-${Math.floor(random() * 2 ** 48).toString(16)}`;
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: `kube-event-shipper-check.${uid}`, namespace: 'default', uid, resourceVersion: '0' },
    involvedObject: { kind: 'KubeEventShipper', name: identity },
    reason: CHECK_REASON,
    message: 'kube-event-shipper check: Loki accepts pushes',
    type: 'Normal',
    source: { component: 'kube-event-shipper' },
    firstTimestamp: time,
    lastTimestamp: time,
    count: 1,
  };
}

export async function pushProbe(config: Config, url: string, deps: PushProbeDeps): Promise<{ ok: boolean; detail: string }> {
  const transformer = createTransformer(transformOptions(config), { now: () => deps.clock.now() });
  const normalized = transformer.normalize(checkEvent(config.identity, deps.clock.now(), deps.random));
  if (!normalized.ok) return { ok: false, detail: `could not build the test entry: ${normalized.detail}` };
  const entry = transformer.toEntry(normalized.event);
  const sink = createLokiSink({ ...lokiSinkOptions(config, url), maxRetries: 0, batchMaxWaitMs: 1 }, { ...deps, progress: ignoreProgress });
  let outcome: DeliveryOutcome | undefined;
  await sink.write(entry, (o) => {
    outcome = o;
  });
  await sink.flush();
  await sink.close(1000);
  const labels = Object.entries(entry.labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(',');
  if (outcome?.kind === 'delivered') return { ok: true, detail: `Loki accepted a test entry {${labels}}` };
  return { ok: false, detail: `Loki did not accept the test entry: ${outcome?.detail ?? outcome?.reason ?? 'no outcome'}` };
}
