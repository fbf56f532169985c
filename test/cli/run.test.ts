import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FakeKubeApiServer } from '../fakes/kube-api-server.js';
import { coreEvent } from '../fakes/kube-events.js';
import { startFakeLoki, type FakeLoki } from '../fakes/loki-receiver.js';
import { readMetrics } from '../support/metrics.js';
import { writeKubeconfig } from '../support/kube-env.js';
import { cleanEnv, observePort, startCli } from '../support/run-cli.js';

const now = (): string => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

describe('run', () => {
  let kube: FakeKubeApiServer;
  let loki: FakeLoki;
  before(async () => {
    kube = await FakeKubeApiServer.start();
    loki = await startFakeLoki();
  });
  after(async () => {
    await kube.close();
    await loki.close();
  });

  it('ships listed and watched events, serves metrics and health, and on SIGTERM flushes, checkpoints and exits 0', async () => {
    for (let i = 0; i < 5; i++) kube.createEvent(coreEvent({ namespace: 'shop', objectName: `web-${i}`, time: now() }));
    const env = cleanEnv();
    const home = env['HOME'] ?? '';
    const checkpoint = join(home, 'checkpoint.json');
    // A batch goes out at 5 entries or after an hour: the sixth entry can only arrive by the shutdown flush.
    const cli = startCli(
      [
        'run',
        '--initial=all',
        '--kubeconfig', writeKubeconfig(home, kube.url),
        '--loki-url', loki.url,
        '--tenant', 'run-test',
        '--listen', '127.0.0.1:0',
        '--checkpoint-file', checkpoint,
        '--batch-max-entries', '5',
        '--batch-max-wait', '1h',
        '--static-labels', 'job=kes,cluster=test',
      ],
      { env },
    );
    const entries = (): number => loki.entries().filter((e) => e.tenant === 'run-test').length;
    try {
      const port = await observePort(cli);
      const scrape = () => readMetrics(`http://127.0.0.1:${port}/metrics`);
      await loki.waitForEntries(5, 10_000);
      assert.equal(entries(), 5);

      let metrics = await scrape();
      assert.equal(metrics.value('kube_event_shipper_events_shipped_total'), 5);
      assert.equal(metrics.value('kube_event_shipper_entries_pushed_total'), 5);
      assert.equal(metrics.value('kube_event_shipper_events_received_total', { type: 'LISTED' }), 5);
      assert.equal(metrics.value('kube_event_shipper_leader'), 1);
      assert.equal(metrics.value('kube_event_shipper_events_dropped_total', { reason: 'malformed' }), 0);
      assert.equal(metrics.value('kube_event_shipper_push_requests_total', { status_code: '204' }), 1);
      // The standard Node.js / process metrics keep their unprefixed names, as generic dashboards expect.
      assert.ok(metrics.value('process_cpu_seconds_total') > 0, 'process_cpu_seconds_total');
      assert.ok(metrics.value('nodejs_heap_size_total_bytes') > 0, 'nodejs_heap_size_total_bytes');
      const names = new Set(metrics.samples.map((m) => m.name));
      assert.deepEqual(
        [...names].filter((n) => !/^(kube_event_shipper_|process_|nodejs_)/.test(n) || /^kube_event_shipper_(process|nodejs)_/.test(n)),
        [],
        'every metric is either ours (kube_event_shipper_*) or a standard process_* / nodejs_* one',
      );
      assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
      assert.equal((await fetch(`http://127.0.0.1:${port}/readyz`)).status, 200);

      // A watched event arrives after the list and waits in the batch.
      kube.createEvent(coreEvent({ namespace: 'shop', objectName: 'web-late', reason: 'Killing', time: now() }));
      const deadline = Date.now() + 10_000;
      do {
        await new Promise((r) => setTimeout(r, 20));
        metrics = await scrape();
      } while (metrics.value('kube_event_shipper_events_received_total', { type: 'ADDED' }) < 1 && Date.now() < deadline);
      assert.equal(metrics.value('kube_event_shipper_queue_entries'), 1);
      assert.equal(entries(), 5);
    } finally {
      cli.child.kill('SIGTERM');
    }
    const result = await cli.result;
    assert.equal(result.code, 0, result.stderr.slice(-3000));
    assert.match(result.stderr, /"msg":"shutting down"/);
    assert.match(result.stderr, /"msg":"stopped"/);
    assert.equal(entries(), 6, 'the held entry was flushed on shutdown');
    assert.ok(existsSync(checkpoint), 'checkpoint written');
    const record = JSON.parse(readFileSync(checkpoint, 'utf8')) as { resourceVersions: Record<string, string> };
    assert.equal(record.resourceVersions['*'], String(kube.resourceVersion), 'the checkpoint covers the flushed event');
  });

  it('without --loki-url, run writes one line per event to stdout', async () => {
    const env = cleanEnv();
    const home = env['HOME'] ?? '';
    const before = kube.events().length;
    const cli = startCli(['run', '--initial=all', '--kubeconfig', writeKubeconfig(home, kube.url), '--listen', '127.0.0.1:0'], { env });
    try {
      await cli.waitFor('stdout', new RegExp(`^(.*\\n){${before}}`));
    } finally {
      cli.child.kill('SIGINT');
    }
    const result = await cli.result;
    assert.equal(result.code, 0, result.stderr.slice(-2000));
    const lines = result.stdout.split('\n').filter((l) => l !== '');
    assert.equal(lines.length, before);
    assert.ok(lines.every((l) => /^kind=\S+ namespace=/.test(l)), lines[0]);
  });

  it('debug logs show the configuration with secrets redacted', async () => {
    const env = cleanEnv({ KES_LOKI_USERNAME: 'shipper', KES_LOKI_PASSWORD: 'hunter2-secret', KES_LOKI_HEADERS: 'X-Api-Key=key-secret' });
    const home = env['HOME'] ?? '';
    const cli = startCli(['run', '--kubeconfig', writeKubeconfig(home, kube.url), '--listen', '127.0.0.1:0', '--loki-url', loki.url, '--log-level', 'debug'], { env });
    try {
      await cli.waitFor('stderr', /"msg":"configuration"/);
    } finally {
      cli.child.kill('SIGTERM');
    }
    const result = await cli.result;
    assert.equal(result.code, 0);
    assert.doesNotMatch(result.stderr, /hunter2|key-secret/);
    assert.match(result.stderr, /"lokiPassword":"<redacted>"/);
  });

  it('with Loki hanging, SIGTERM still ends within the grace period, exit 0', async () => {
    kube.createEvent(coreEvent({ namespace: 'shop', objectName: 'web-hang', time: now() }));
    loki.setDefaultReply({ hang: true });
    const env = cleanEnv();
    const home = env['HOME'] ?? '';
    const cli = startCli(
      ['run', '--initial=all', '--kubeconfig', writeKubeconfig(home, kube.url), '--listen', '127.0.0.1:0', '--loki-url', loki.url, '--tenant', 'hang', '--grace-period', '2s', '--batch-max-wait', '10ms'],
      { env },
    );
    try {
      // A ceiling for a slow start-up on a busy machine, not a timing assertion.
      await loki.waitForRequests(loki.requests.length + 1, 30_000);
    } finally {
      cli.child.kill('SIGTERM');
    }
    const signalledAt = Date.now();
    const result = await cli.result;
    loki.setDefaultReply({ status: 204 });
    assert.equal(result.code, 0, result.stderr.slice(-2000));
    assert.ok(Date.now() - signalledAt < 2000, `ended ${Date.now() - signalledAt} ms after SIGTERM`);
  });

  it('a second signal exits at once with exit 1', async () => {
    loki.setDefaultReply({ hang: true });
    const env = cleanEnv();
    const home = env['HOME'] ?? '';
    const cli = startCli(
      ['run', '--initial=all', '--kubeconfig', writeKubeconfig(home, kube.url), '--listen', '127.0.0.1:0', '--loki-url', loki.url, '--tenant', 'hang2', '--batch-max-wait', '10ms'],
      { env },
    );
    try {
      // A ceiling for a slow start-up on a busy machine, not a timing assertion.
      await loki.waitForRequests(loki.requests.length + 1, 30_000);
      cli.child.kill('SIGTERM');
      await cli.waitFor('stderr', /"msg":"shutting down"/);
    } finally {
      cli.child.kill('SIGTERM');
    }
    const result = await cli.result;
    loki.setDefaultReply({ status: 204 });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /"msg":"second signal, exiting now"/);
  });

  it('a port already in use fails start-up with exit 1 and one line naming --listen', async () => {
    const env = cleanEnv();
    const home = env['HOME'] ?? '';
    const first = startCli(['run', '--kubeconfig', writeKubeconfig(home, kube.url), '--listen', '127.0.0.1:0', '--loki-url', loki.url], { env });
    try {
      const port = await observePort(first);
      const second = startCli(['run', '--kubeconfig', writeKubeconfig(home, kube.url), '--listen', `127.0.0.1:${port}`, '--loki-url', loki.url], { env });
      const result = await second.result;
      assert.equal(result.code, 1);
      assert.match(result.stderr, /EADDRINUSE/);
      // Apart from the JSON logs, exactly one line for the user, naming the option to change.
      const plain = result.stderr.split('\n').filter((l) => l !== '' && !l.startsWith('{'));
      assert.deepEqual(plain, [
        `kube-event-shipper: cannot listen on --listen 127.0.0.1:${port}: EADDRINUSE (another process uses this port: choose another with --listen)`,
      ]);
    } finally {
      first.child.kill('SIGTERM');
      await first.result;
    }
  });
});
