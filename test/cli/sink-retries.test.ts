import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { commandSinkOptions, type SinkCommand } from '../../src/cli/sink-options.js';
import { loadConfig } from '../../src/config/index.js';
import type { Clock } from '../../src/core/clock.js';
import type { DeliveryOutcome, Entry } from '../../src/core/entry.js';
import { ignoreProgress } from '../../src/core/progress.js';
import { createMetrics } from '../../src/observe/metrics.js';
import { createLokiSink } from '../../src/sink/loki/index.js';
import { startFakeLoki, type FakeLoki } from '../fakes/loki-receiver.js';

/** Backoff sleeps end at once, so dozens of retries take milliseconds; the pushes are real HTTP. */
const instantClock: Clock = {
  now: () => Date.now(),
  sleep: (_ms, signal) => (signal?.aborted ? Promise.reject(signal.reason as Error) : Promise.resolve()),
};

const entry: Entry = {
  labels: { job: 'kes', namespace: 'shop' },
  timestampNs: BigInt(Date.now()) * 1_000_000n,
  line: 'kind=Pod name=web-0 reason=BackOff',
  structuredMetadata: {},
  occurrenceId: 'retry-test',
};

/** Ships one entry through the sink a command would build, against a Loki failing `failures` times. */
async function shipThroughOutage(command: SinkCommand, loki: FakeLoki, failures: number): Promise<{ outcome: DeliveryOutcome | undefined; pushes: number }> {
  const config = loadConfig({ flags: { lokiUrl: loki.url }, env: {}, readFile: () => '', hostname: 'test' });
  const before = loki.requests.length;
  loki.script(...Array.from({ length: failures }, () => ({ status: 503, body: 'ingester unavailable' })));
  const sink = createLokiSink(
    { ...commandSinkOptions(command, config, loki.url), batchMaxWaitMs: 1 },
    { metrics: createMetrics({ version: 'test' }), logger: pino({ level: 'silent' }), clock: instantClock, random: () => 0.5, progress: ignoreProgress },
  );
  let outcome: DeliveryOutcome | undefined;
  await sink.write(entry, (o) => {
    outcome = o;
  });
  await sink.flush();
  await sink.close(1000);
  return { outcome, pushes: loki.requests.length - before };
}

describe('retry bounds per command', () => {
  it('run asks the sink for unbounded retries (Infinity), replay for 10', () => {
    const config = loadConfig({ flags: {}, env: {}, readFile: () => '', hostname: 'test' });
    assert.equal(commandSinkOptions('run', config, 'http://loki:3100').maxRetries, Number.POSITIVE_INFINITY);
    assert.equal(commandSinkOptions('replay', config, 'http://loki:3100').maxRetries, 10);
  });

  let loki: FakeLoki;
  before(async () => {
    loki = await startFakeLoki();
  });
  after(async () => {
    await loki.close();
  });

  it('run never drops a batch for a long outage: 40 failed pushes, then it is delivered', async () => {
    const { outcome, pushes } = await shipThroughOutage('run', loki, 40);
    assert.deepEqual(outcome, { kind: 'delivered' });
    assert.equal(pushes, 41);
  });

  it('replay gives up after a bounded number of retries and says so', async () => {
    const { outcome, pushes } = await shipThroughOutage('replay', loki, 40);
    assert.equal(outcome?.kind, 'dropped');
    assert.equal(outcome?.kind === 'dropped' ? outcome.reason : undefined, 'retries_exhausted');
    assert.equal(pushes, 11, 'the first push and 10 retries');
  });
});
