/**
 * The built binary writing event lines to a pipe whose reader goes away (`… | head -1`): the end
 * of the output ends the command like a shutdown, with one log line and exit code 0.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FakeKubeApiServer } from '../fakes/kube-api-server.js';
import { coreEvent } from '../fakes/kube-events.js';
import { writeKubeconfig } from '../support/kube-env.js';
import { cleanEnv, startCli, type CliResult, type Spawned } from '../support/run-cli.js';

const now = (): string => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

/** The child's log lines (pino JSON on stderr). */
function logLines(stderr: string): Record<string, unknown>[] {
  return stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Waits for the child to exit, killing it after `timeoutMs` so a hang fails the test instead of stalling it. */
async function exited(cli: Spawned, timeoutMs = 10_000): Promise<CliResult> {
  const timer = setTimeout(() => cli.child.kill('SIGKILL'), timeoutMs);
  try {
    return await cli.result;
  } finally {
    clearTimeout(timer);
  }
}

/** Like `head -1` quitting: the read end of the child's stdout is closed once a line has arrived. */
async function closeStdoutAfterFirstLine(cli: Spawned): Promise<void> {
  await cli.waitFor('stdout', /\n/);
  cli.child.stdout?.destroy();
}

function assertOneCalmStopLine(stderr: string): void {
  const logs = logLines(stderr);
  assert.equal(logs.filter((l) => l['msg'] === 'stdout closed by its reader; stopping').length, 1, stderr);
  assert.equal(logs.filter((l) => typeof l['level'] === 'number' && l['level'] >= 50).length, 0, 'nothing logged as an error');
  assert.ok(!stderr.includes('"stack"'), 'no stack trace for a closed pipe');
}

describe('stdout whose reader goes away', { timeout: 30_000 }, () => {
  let kube: FakeKubeApiServer;
  before(async () => {
    kube = await FakeKubeApiServer.start();
  });
  after(async () => {
    await kube.close();
  });

  it('replay stops at the closed pipe and exits 0 without a warning per entry', async () => {
    const lines = Array.from({ length: 50 }, (_, i) => JSON.stringify(coreEvent({ namespace: 'shop', objectName: `web-${i}`, message: `replayed ${i}`, time: now() })));
    const cli = startCli(['replay', '-'], { env: cleanEnv() });
    cli.child.stdin?.write(`${lines[0]}\n`);
    await closeStdoutAfterFirstLine(cli);
    // Written only after the reader left: these cannot reach it.
    cli.child.stdin?.end(lines.slice(1).join('\n') + '\n');
    const result = await exited(cli);
    assert.equal(result.code, 0, result.stderr);
    assertOneCalmStopLine(result.stderr);
    const dropped = logLines(result.stderr).filter((l) => l['msg'] === 'entry dropped');
    assert.ok(dropped.length <= 1, `at most the entry being written when the pipe closed is reported, got ${dropped.length}`);
    assert.match(result.stderr, /replay done: \d+ events read, 1 delivered/);
  });

  it('run stops at the closed pipe, exits 0, and leaves the undelivered event for the next run', async () => {
    kube.createEvent(coreEvent({ namespace: 'shop', objectName: 'web-before', message: 'before the close', time: now() }));
    const env = cleanEnv();
    const home = env['HOME'] ?? '';
    const args = ['run', '--initial=all', '--kubeconfig', writeKubeconfig(home, kube.url), '--listen', '127.0.0.1:0', '--checkpoint-file', join(home, 'checkpoint.json')];
    const first = startCli(args, { env });
    await first.waitFor('stdout', /before the close/);
    await closeStdoutAfterFirstLine(first);
    kube.createEvent(coreEvent({ namespace: 'shop', objectName: 'web-after', message: 'after the close', time: now() }));
    const result = await exited(first);
    assert.equal(result.code, 0, result.stderr);
    assertOneCalmStopLine(result.stderr);
    assert.match(result.stderr, /"msg":"stopped"/);

    // The checkpoint did not pass the event the closed pipe never took: the next run ships it.
    const second = startCli(args, { env });
    try {
      await second.waitFor('stdout', /after the close/);
      assert.doesNotMatch(second.output().stdout, /before the close/, 'the delivered event is not shipped twice');
    } finally {
      second.child.kill('SIGTERM');
      await exited(second);
    }
  });
});
