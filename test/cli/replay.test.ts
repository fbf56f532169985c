import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTransformer, eventsInText, resolveTransformOptions } from '../../src/transform/index.js';
import { startFakeLoki, type FakeLoki } from '../fakes/loki-receiver.js';
import { fixturePath, readFixtureText } from '../support/fixtures.js';
import { closedPort } from '../support/net.js';
import { cleanEnv, runCliToEnd, startCli } from '../support/run-cli.js';

/** The occurrences a fixture holds, by event uid (what the receiver's `event_uid` metadata must show). */
function expectedOccurrences(relative: string): string[] {
  const transformer = createTransformer(resolveTransformOptions({}), { now: () => Date.now() });
  const ids = new Map<string, string>();
  for (const raw of eventsInText(readFixtureText(relative)).events) {
    const normalized = transformer.normalize(raw);
    if (!normalized.ok) continue;
    const entry = transformer.toEntry(normalized.event);
    ids.set(entry.occurrenceId, normalized.event.uid);
  }
  return [...ids.values()].sort();
}

describe('replay into Loki', () => {
  let loki: FakeLoki;
  before(async () => {
    loki = await startFakeLoki();
  });
  after(async () => {
    await loki.close();
  });

  const corpora = [
    'events/kubectl-get-events.json',
    'events/kubectl-get-events.k8s.io.json',
    'events/watch-core-v1.jsonl',
    'events/watch-events.k8s.io-v1.jsonl',
    'events/controllers/kubectl-get-events.json',
  ];
  for (const corpus of corpora) {
    it(`${corpus} delivers every occurrence exactly once`, async () => {
      const tenant = `t-${corpus.replace(/\W+/g, '-')}`;
      const expected = expectedOccurrences(corpus);
      assert.ok(expected.length > 50, 'a real corpus');
      const result = await runCliToEnd(['replay', fixturePath(corpus), '--loki-url', loki.url, '--tenant', tenant, '--static-labels', 'job=kes,cluster=test']);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stderr, new RegExp(`replay done: \\d+ events read, ${expected.length} delivered, 0 dropped, 0 malformed`));
      const received = loki.entries().filter((e) => e.tenant === tenant);
      assert.deepEqual(received.map((e) => e.structuredMetadata['event_uid']).sort(), expected);
      assert.ok(received.every((e) => /cluster="test"/.test(e.labels) && /job="kes"/.test(e.labels)));
    });
  }

  it('--static-labels cluster=prod keeps the default job label (flag and config file)', async () => {
    const input = readFixtureText('events/watch-core-v1.jsonl');
    const viaFlag = await runCliToEnd(['replay', '-', '--loki-url', loki.url, '--tenant', 't-static-flag', '--static-labels', 'cluster=prod'], { stdin: input });
    assert.equal(viaFlag.code, 0, viaFlag.stderr);
    const env = cleanEnv();
    const configPath = join(env['HOME'] ?? '', 'config.yaml');
    writeFileSync(configPath, 'staticLabels:\n  cluster: prod\n');
    const viaFile = await runCliToEnd(['replay', '-', '--loki-url', loki.url, '--tenant', 't-static-file', '--config', configPath], { env, stdin: input });
    assert.equal(viaFile.code, 0, viaFile.stderr);
    for (const tenant of ['t-static-flag', 't-static-file']) {
      const received = loki.entries().filter((e) => e.tenant === tenant);
      assert.ok(received.length > 0, tenant);
      for (const e of received) {
        assert.match(e.labels, /job="kube-event-shipper"/, tenant);
        assert.match(e.labels, /cluster="prod"/, tenant);
      }
    }
  });

  it('a dead Loki URL fails at once with exit 1 and one line naming the URL and the error', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const result = await runCliToEnd(['replay', fixturePath('events/kubectl-get-events.json'), '--loki-url', url]);
    assert.equal(result.code, 1, result.stderr);
    const lines = result.stderr.split('\n').filter((l) => l !== '');
    assert.deepEqual(lines, [`kube-event-shipper: cannot reach Loki at ${url} (--loki-url): connect ECONNREFUSED 127.0.0.1:${url.split(':').pop() ?? ''}`]);
  });

  it('a Loki whose /ready is not 200 gets a warning and the replay still ships', async () => {
    const tenant = 't-not-ready';
    loki.setReady(503);
    try {
      const result = await runCliToEnd(['replay', '-', '--loki-url', loki.url, '--tenant', tenant], { stdin: readFixtureText('events/watch-core-v1.jsonl') });
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stderr, new RegExp(`warning: Loki at ${loki.url} answered /ready with 503; replaying anyway`));
      assert.ok(loki.entries().some((e) => e.tenant === tenant));
    } finally {
      loki.setReady(200);
    }
  });

  it('stdin works like a file', async () => {
    const tenant = 't-stdin';
    const expected = expectedOccurrences('events/watch-core-v1.jsonl');
    const result = await runCliToEnd(['replay', '-', '--loki-url', loki.url, '--tenant', tenant], { stdin: readFixtureText('events/watch-core-v1.jsonl') });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(loki.entries().filter((e) => e.tenant === tenant).length, expected.length);
  });

  it('a malformed line is counted, the rest is delivered, and the exit code says something was lost', async () => {
    const tenant = 't-malformed';
    const good = readFixtureText('events/watch-core-v1.jsonl').split('\n').filter((l) => l.trim() !== '').slice(0, 5);
    const input = [good[0], '{"type":"ADDED","object":{"kind":"Event"}}', 'garbage', ...good.slice(1)].join('\n') + '\n';
    const result = await runCliToEnd(['replay', '-', '--loki-url', loki.url, '--tenant', tenant], { stdin: input });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /2 malformed/);
    assert.ok(loki.entries().filter((e) => e.tenant === tenant).length >= 4);
  });

  it('a batch Loki rejects with 400 is dropped and the exit code is 1', async () => {
    const tenant = 't-rejected';
    loki.script({ status: 400, body: 'entry too far behind' });
    const result = await runCliToEnd(['replay', fixturePath('events/kubectl-get-events.json'), '--loki-url', loki.url, '--tenant', tenant, '--batch-max-entries', '10']);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /replay done: .* 10 dropped/);
    const warnings = result.stderr.split('\n').filter((l) => l.startsWith('{') && /"level":"(warn|error)"/.test(l));
    assert.equal(warnings.length, 1, `one log line for the one rejected batch, not one per entry:\n${warnings.join('\n')}`);
  });

  it('a missing input file is a clear error with exit 1', async () => {
    const result = await runCliToEnd(['replay', '/nonexistent/events.json', '--loki-url', loki.url]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /cannot read \/nonexistent\/events\.json: ENOENT/);
  });

  it('without --loki-url the lines go to stdout', async () => {
    const expected = expectedOccurrences('events/kubectl-get-events.json');
    const result = await runCliToEnd(['replay', fixturePath('events/kubectl-get-events.json')]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.split('\n').filter((l) => l !== '').length, expected.length);
  });

  it('SIGTERM while reading stdin delivers what was read and exits 0', async () => {
    const tenant = 't-sigterm';
    const lines = readFixtureText('events/watch-core-v1.jsonl').split('\n').filter((l) => l.trim() !== '').slice(0, 3);
    const cli = startCli(['replay', '-', '--loki-url', loki.url, '--tenant', tenant, '--batch-max-wait', '1h'], { env: cleanEnv() });
    await cli.waitFor('stderr', /"msg":"replay started"/);
    cli.child.stdin?.write(lines.join('\n') + '\n');
    // The batch waits (1h); only the shutdown flush can deliver it. Give the lines time to be read.
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(loki.entries().filter((e) => e.tenant === tenant).length, 0);
    cli.child.kill('SIGTERM');
    const result = await cli.result;
    assert.equal(result.code, 0, result.stderr);
    assert.equal(loki.entries().filter((e) => e.tenant === tenant).length, 3);
  });
});
