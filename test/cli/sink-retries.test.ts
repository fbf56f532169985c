import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { commandSinkOptions, type SinkCommand } from '../../src/cli/sink-options.js';
import { loadConfig } from '../../src/config/index.js';
import type { DeliveryOutcome, Entry } from '../../src/core/entry.js';
import { ignoreProgress } from '../../src/core/progress.js';
import { createMetrics } from '../../src/observe/metrics.js';
import { createLokiSink, resolveLokiSinkOptions } from '../../src/sink/loki/index.js';
import { startFakeLoki, type FakeLoki } from '../fakes/loki-receiver.js';
import { fastClock } from '../support/manual-clock.js';
import { secretVolume } from '../support/secret-volume.js';

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
    { metrics: createMetrics({ version: 'test' }), logger: pino({ level: 'silent' }), clock: fastClock(), random: () => 0.5, progress: ignoreProgress },
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

  it('run retries at least every 5 s, so delivery resumes within seconds of Loki coming back; replay lets the backoff grow', () => {
    const config = loadConfig({ flags: {}, env: {}, readFile: () => '', hostname: 'test' });
    assert.ok(resolveLokiSinkOptions(commandSinkOptions('run', config, 'http://loki:3100')).maxBackoffMs <= 5_000);
    assert.equal(resolveLokiSinkOptions(commandSinkOptions('replay', config, 'http://loki:3100')).maxBackoffMs, 5 * 60_000);
  });

  it('the token file flag reaches the sink as a file it reads again: a rotated token is used after a 401', async () => {
    const volume = secretVolume({ token: 'first\n' });
    const fake = await startFakeLoki();
    try {
      const config = loadConfig({ flags: { lokiUrl: fake.url, lokiBearerTokenFile: volume.path('token') }, env: {}, readFile: (path) => readFileSync(path, 'utf8'), hostname: 'test' });
      const sink = createLokiSink(
        { ...commandSinkOptions('run', config, fake.url), batchMaxWaitMs: 1 },
        { metrics: createMetrics({ version: 'test' }), logger: pino({ level: 'silent' }), clock: fastClock(), random: () => 0.5, progress: ignoreProgress },
      );
      fake.requireAuthorization('Bearer second');
      let outcome: DeliveryOutcome | undefined;
      await sink.write(entry, (o) => {
        outcome = o;
      });
      while (fake.requests.length < 2) await new Promise((r) => setTimeout(r, 1));
      volume.rotate({ token: 'second\n' });
      await sink.flush();
      await sink.close(1000);
      assert.deepEqual(outcome, { kind: 'delivered' });
      assert.equal(fake.requests[0]?.authorization, 'Bearer first');
      assert.equal(fake.requests.at(-1)?.authorization, 'Bearer second');
    } finally {
      await fake.close();
      volume.remove();
    }
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
