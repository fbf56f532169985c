/**
 * The checkpoint belongs to one leadership term: `run`'s real wiring (`pipelineWork` under `serve`
 * with `--leader-elect`) against the shared fake API server and a fake Loki. A leader whose Lease is
 * taken drains but must not overwrite the new leader's checkpoint; a leader that shuts down while
 * still leading writes its final checkpoint before releasing the Lease.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { pino } from 'pino';
import { pipelineWork, shipperOptions } from '../../src/cli/commands/run.js';
import { serve } from '../../src/cli/serve.js';
import type { Runtime } from '../../src/cli/runtime.js';
import { lokiSinkOptions, transformOptions } from '../../src/cli/sink-options.js';
import { loadConfig } from '../../src/config/load.js';
import { systemClock } from '../../src/core/clock.js';
import { ignoreProgress } from '../../src/core/progress.js';
import { lostTheLease, LeaseLostError, microTime } from '../../src/ha/leader-election.js';
import { createHealthTracker } from '../../src/observe/health.js';
import { createMetrics } from '../../src/observe/metrics.js';
import { createLokiSink } from '../../src/sink/loki/index.js';
import { FakeKubeApiServer } from '../fakes/kube-api-server.js';
import { coreEvent, type KubeObject } from '../fakes/kube-events.js';
import { startFakeLoki, type FakeLoki } from '../fakes/loki-receiver.js';
import { until } from '../support/wait.js';

const CHECKPOINT = { namespace: 'kes', name: 'kes-checkpoint' };
const LEASE = { namespace: 'kes', name: 'kes-lease' };

/** A runtime like `run`'s, with its log lines kept for assertions instead of printed. */
function runtime(lokiUrl: string): { rt: Runtime; logs: { msg?: string }[] } {
  const config = loadConfig({
    flags: {
      lokiUrl,
      initial: 'all',
      listen: '127.0.0.1:0',
      leaderElect: true,
      lease: `${LEASE.namespace}/${LEASE.name}`,
      leaseDuration: '1s',
      leaseRenewDeadline: '600ms',
      leaseRetryPeriod: '100ms',
      identity: 'old-leader',
      checkpointConfigmap: `${CHECKPOINT.namespace}/${CHECKPOINT.name}`,
      checkpointInterval: '1h', // only the final checkpoint is written
      batchMaxWait: '10ms',
    },
    env: {},
    readFile: () => {
      throw new Error('no file');
    },
    hostname: 'host-a',
  });
  const logs: { msg?: string }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line !== '') logs.push(JSON.parse(line) as { msg?: string });
      done();
    },
  });
  const rt: Runtime = {
    config,
    version: 't',
    logger: pino({ level: 'info' }, sink),
    metrics: createMetrics({ version: 't' }),
    health: createHealthTracker({ clock: systemClock, stallTimeoutMs: 60_000 }),
    clock: systemClock,
    random: () => 0.5,
  };
  return { rt, logs };
}

function checkpointText(kube: FakeKubeApiServer): string | undefined {
  const cm = kube.getObject('configmaps', CHECKPOINT.namespace, CHECKPOINT.name) as { data?: Record<string, string> } | undefined;
  return cm?.data?.['checkpoint.json'];
}

describe('the checkpoint of a leadership term', () => {
  let kube: FakeKubeApiServer;
  let loki: FakeLoki;
  beforeEach(async () => {
    kube = await FakeKubeApiServer.start();
    loki = await startFakeLoki();
    for (let i = 0; i < 3; i++) kube.createEvent(coreEvent({ namespace: 'shop', objectName: `web-${i}`, time: new Date().toISOString().replace(/\.\d+Z$/, 'Z') }));
  });
  afterEach(async () => {
    await kube.close();
    await loki.close();
  });

  function start(rt: Runtime, shutdown: AbortSignal): Promise<void> {
    const kubeConfig = kube.kubeConfig();
    const work = pipelineWork({
      rt,
      kubeConfig,
      transformOptions: transformOptions(rt.config),
      options: shipperOptions(rt.config, 2000),
      createSink: () => createLokiSink(lokiSinkOptions(rt.config, loki.url), { metrics: rt.metrics, logger: rt.logger, clock: rt.clock, random: rt.random, progress: ignoreProgress }),
    });
    return serve(rt, work, shutdown, { kubeConfig: () => kubeConfig });
  }

  it('the abort reason of a lost term says so, and a shutdown does not', () => {
    const lost = new AbortController();
    lost.abort(new LeaseLostError('lost the lease'));
    const shutdown = new AbortController();
    shutdown.abort(new Error('SIGTERM'));
    assert.equal(lostTheLease(lost.signal), true);
    assert.equal(lostTheLease(shutdown.signal), false);
    assert.equal(lostTheLease(new AbortController().signal), false);
  });

  it('a leader that loses the lease drains but does not overwrite the new leader’s checkpoint', async () => {
    const { rt, logs } = runtime(loki.url);
    const shutdown = new AbortController();
    const running = start(rt, shutdown.signal);
    try {
      await loki.waitForEntries(3, 8000);
      assert.equal(checkpointText(kube), undefined, 'no checkpoint yet: the interval is an hour');

      // A new leader takes the Lease (for a minute) and writes its own, newer checkpoint.
      const lease = kube.getObject('leases', LEASE.namespace, LEASE.name) as KubeObject;
      kube.putObject('leases', {
        ...lease,
        spec: { ...(lease['spec'] as object), holderIdentity: 'new-leader', leaseDurationSeconds: 60, renewTime: microTime(Date.now()) },
      });
      const newer = '{"written":"by the new leader"}';
      kube.putObject('configmaps', {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: CHECKPOINT.name, namespace: CHECKPOINT.namespace, labels: { 'app.kubernetes.io/managed-by': 'kube-event-shipper' } },
        data: { 'checkpoint.json': newer },
      });

      await until(() => logs.some((l) => l.msg === 'pipeline stopped'), 'the old leader stops its pipeline', 8000);
      assert.ok(logs.some((l) => l.msg === 'lost the lease'));
      assert.ok(logs.some((l) => l.msg === 'checkpoint not written: this term lost the lease'), 'the skipped final checkpoint is logged');
      assert.equal(checkpointText(kube), newer, 'the new leader’s checkpoint stands');
      const spec = kube.getObject('leases', LEASE.namespace, LEASE.name)?.['spec'] as Record<string, unknown> | undefined;
      assert.equal(spec?.['holderIdentity'], 'new-leader', 'the old leader did not release or retake it');
    } finally {
      shutdown.abort(new Error('test over'));
      await running;
    }
  });

  it('a leader that shuts down while leading writes its final checkpoint, then releases the lease', async () => {
    const { rt, logs } = runtime(loki.url);
    const shutdown = new AbortController();
    const running = start(rt, shutdown.signal);
    try {
      await loki.waitForEntries(3, 8000);
      assert.equal(checkpointText(kube), undefined);
    } finally {
      // Also when the case failed: a leader left running would keep this file's process alive.
      shutdown.abort(new Error('SIGTERM'));
      await running;
    }
    const record = JSON.parse(checkpointText(kube) ?? '{}') as { resourceVersions?: Record<string, string> };
    assert.ok(record.resourceVersions && Object.keys(record.resourceVersions).length > 0, checkpointText(kube));
    assert.equal(logs.some((l) => l.msg === 'checkpoint not written: this term lost the lease'), false);
    const spec = kube.getObject('leases', LEASE.namespace, LEASE.name)?.['spec'] as Record<string, unknown> | undefined;
    assert.equal(spec?.['holderIdentity'], '', 'released after the checkpoint');
  });
});
