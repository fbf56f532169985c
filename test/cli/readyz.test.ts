import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FakeKubeApiServer } from '../fakes/kube-api-server.js';
import { startFakeLoki, type FakeLoki } from '../fakes/loki-receiver.js';
import { writeKubeconfig } from './kube-env.js';
import { cleanEnv, observePort, startCli, type Spawned } from './run-cli.js';

/** Polls `/readyz` until it answers `status` with a matching body, for at most 30 s (a ceiling for a busy machine). */
async function waitForReadyz(port: number, status: number, body: RegExp): Promise<void> {
  let last = '';
  for (let attempt = 0; attempt < 1_500; attempt++) {
    const res = await fetch(`http://127.0.0.1:${port}/readyz`);
    const text = await res.text();
    if (res.status === status && body.test(text)) return;
    last = `${res.status} ${text}`;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail(`/readyz never answered ${status} ${String(body)}; last: ${last}`);
}

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
    await waitForReadyz(port, 503, /^destination unreachable\n$/);
    await cli.waitFor('stderr', /"msg":"destination not ready"/);
    cli.child.kill('SIGTERM');
    assert.equal((await cli.result).code, 0);
  });

  it('with Loki ready, /readyz turns ready from its /ready answer alone, before any push', async () => {
    const pushesBefore = loki.requests.length;
    const cli = start(['--loki-url', loki.url]);
    const port = await observePort(cli);
    await waitForReadyz(port, 200, /^ok\n$/);
    assert.equal(loki.requests.length, pushesBefore, 'no push happened');
    cli.child.kill('SIGTERM');
    assert.equal((await cli.result).code, 0);
  });

  it('writing to stdout, /readyz needs only the open watch', async () => {
    const cli = start([]);
    const port = await observePort(cli);
    await waitForReadyz(port, 200, /^ok\n$/);
    cli.child.kill('SIGTERM');
    assert.equal((await cli.result).code, 0);
  });
});
