import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FakeKubeApiServer } from '../fakes/kube-api-server.js';
import { coreEvent } from '../fakes/kube-events.js';
import { writeKubeconfig } from '../support/kube-env.js';
import { cleanEnv, observePort, startCli } from '../support/run-cli.js';

const now = (): string => new Date().toISOString().replace(/\.\d+Z$/, 'Z');
const NO_CHECKPOINT = '"msg":"no checkpoint (--checkpoint-file or --checkpoint-configmap): a restart will not resume where this run stopped"';

describe('run: where the checkpoint lives when no flag says', () => {
  let kube: FakeKubeApiServer;
  before(async () => {
    kube = await FakeKubeApiServer.start();
  });
  after(async () => {
    await kube.close();
  });

  it('outside a cluster, run warns once that restarts will not resume', async () => {
    const env = cleanEnv();
    const cli = startCli(['run', '--kubeconfig', writeKubeconfig(env['HOME'] ?? '', kube.url), '--listen', '127.0.0.1:0'], { env });
    await observePort(cli);
    await cli.waitFor('stderr', /"msg":"pipeline starting"/);
    cli.child.kill('SIGTERM');
    const result = await cli.result;
    assert.equal(result.code, 0, result.stderr.slice(-2000));
    assert.equal(result.stderr.split(NO_CHECKPOINT).length - 1, 1, 'warned exactly once');
    assert.match(result.stderr, /"level":"warn"[^\n]*no checkpoint/, 'as a warning');
  });

  it('in a cluster, run keeps the checkpoint in <POD_NAMESPACE>/kube-event-shipper-checkpoint', async () => {
    kube.createEvent(coreEvent({ namespace: 'shop', objectName: 'web-0', time: now() }));
    const env = cleanEnv({ KUBERNETES_SERVICE_HOST: '127.0.0.1', POD_NAMESPACE: 'kes' });
    const cli = startCli(['run', '--kubeconfig', writeKubeconfig(env['HOME'] ?? '', kube.url), '--listen', '127.0.0.1:0', '--initial=all'], { env });
    await cli.waitFor('stderr', /"checkpointConfigmap":"kes\/kube-event-shipper-checkpoint","msg":"in a cluster without a checkpoint flag: checkpoint kept in the default ConfigMap"/);
    await cli.waitFor('stdout', /web-0/);
    cli.child.kill('SIGTERM');
    const result = await cli.result;
    assert.equal(result.code, 0, result.stderr.slice(-2000));
    assert.ok(!result.stderr.includes(NO_CHECKPOINT));
    const stored = kube.getObject('configmaps', 'kes', 'kube-event-shipper-checkpoint');
    assert.ok(stored, 'the checkpoint was written to the default ConfigMap on shutdown');
  });
});
