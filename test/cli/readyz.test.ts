import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FakeKubeApiServer } from '../fakes/kube-api-server.js';
import { startFakeLoki, type FakeLoki } from '../fakes/loki-receiver.js';
import { writeKubeconfig } from '../support/kube-env.js';
import { cleanEnv, observePort, startCli, type Spawned } from '../support/run-cli.js';
import { waitForReadyz } from '../support/wait.js';

/** A ceiling for a busy machine. */
const READY_TIMEOUT_MS = 30_000;

describe('run: /readyz and the destination', () => {
  let kube: FakeKubeApiServer;
  let loki: FakeLoki;
  const running: Spawned[] = [];
  before(async () => {
    kube = await FakeKubeApiServer.start();
    loki = await startFakeLoki();
  });
  after(async () => {
    for (const cli of running) cli.child.kill('SIGKILL');
    await Promise.all(running.map((cli) => cli.result));
    await kube.close();
    await loki.close();
  });

  const start = (extra: string[]): Spawned => {
    const env = cleanEnv();
    const cli = startCli(['run', '--kubeconfig', writeKubeconfig(env['HOME'] ?? '', kube.url), '--listen', '127.0.0.1:0', ...extra], { env });
    running.push(cli);
    return cli;
  };

  it('with Loki unreachable, /readyz fails although the watch is open and nothing was pushed', async () => {
    const dead = await startFakeLoki();
    const url = dead.url;
    await dead.close();
    const cli = start(['--loki-url', url]);
    const port = await observePort(cli);
    await waitForReadyz(`http://127.0.0.1:${port}`, { status: 503, body: /^destination unreachable\n$/ }, READY_TIMEOUT_MS);
    await cli.waitFor('stderr', /"msg":"destination not ready"/);
    cli.child.kill('SIGTERM');
    assert.equal((await cli.result).code, 0);
  });

  it('with Loki ready, /readyz turns ready from its /ready answer alone, before any push', async () => {
    const pushesBefore = loki.requests.length;
    const cli = start(['--loki-url', loki.url]);
    const port = await observePort(cli);
    await waitForReadyz(`http://127.0.0.1:${port}`, { status: 200, body: /^ok\n$/ }, READY_TIMEOUT_MS);
    assert.equal(loki.requests.length, pushesBefore, 'no push happened');
    cli.child.kill('SIGTERM');
    assert.equal((await cli.result).code, 0);
  });

  it('writing to stdout, /readyz needs only the open watch', async () => {
    const cli = start([]);
    const port = await observePort(cli);
    await waitForReadyz(`http://127.0.0.1:${port}`, { status: 200, body: /^ok\n$/ }, READY_TIMEOUT_MS);
    cli.child.kill('SIGTERM');
    assert.equal((await cli.result).code, 0);
  });
});
