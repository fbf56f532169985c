import assert from 'node:assert/strict';
import { createServer as createHttpServer, type IncomingHttpHeaders } from 'node:http';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { serializeCheckpoint } from '../../src/checkpoint/index.js';
import { FakeKubeApiServer } from '../fakes/kube-api-server.js';
import { startFakeLoki, type FakeLoki } from '../fakes/loki-receiver.js';
import { writeKubeconfig } from '../support/kube-env.js';
import { cleanEnv, runCliToEnd } from '../support/run-cli.js';
import { closedPort } from '../support/net.js';

interface Line {
  status: string;
  item: string;
  detail: string;
}

function verdicts(stdout: string): Line[] {
  return stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const m = /^(ok|FAIL|skip)\s+(.+?)\s{2,}(.*)$/.exec(l);
      assert.ok(m, `a verdict line: ${l}`);
      return { status: m[1] ?? '', item: m[2] ?? '', detail: m[3] ?? '' };
    });
}

function verdict(lines: Line[], item: string): Line {
  const found = lines.find((l) => l.item === item);
  assert.ok(found, `a verdict for ${item} in ${JSON.stringify(lines)}`);
  return found;
}

describe('check', () => {
  let kube: FakeKubeApiServer;
  let loki: FakeLoki;
  let env: Record<string, string>;
  let kubeconfig: string;
  before(async () => {
    kube = await FakeKubeApiServer.start();
    loki = await startFakeLoki();
    env = cleanEnv();
    kubeconfig = writeKubeconfig(env['HOME'] ?? '', kube.url);
  });
  after(async () => {
    await kube.close();
    await loki.close();
  });

  it('everything in order: one ok line per item and exit 0', async () => {
    const result = await runCliToEnd(['check', '--kubeconfig', kubeconfig, '--loki-url', loki.url, '--tenant', 'check-ok'], { env });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const lines = verdicts(result.stdout);
    assert.deepEqual(
      lines.map((l) => [l.status, l.item]),
      [
        ['ok', 'config'],
        ['ok', 'kubernetes'],
        ['ok', 'list events'],
        ['ok', 'watch events'],
        ['ok', 'read events'],
        ['ok', 'loki ready'],
        ['ok', 'loki push'],
      ],
    );
    const pushed = loki.entries().filter((e) => e.tenant === 'check-ok');
    assert.equal(pushed.length, 1);
    assert.match(pushed[0]?.labels ?? '', /reason="ShipperCheck"/);
  });

  it('the API server unreachable is a FAIL naming the server', async () => {
    const home = cleanEnv()['HOME'] ?? '';
    const url = `http://127.0.0.1:${await closedPort()}`;
    const result = await runCliToEnd(['check', '--kubeconfig', writeKubeconfig(home, url)], { env });
    assert.equal(result.code, 1);
    const line = verdict(verdicts(result.stdout), 'kubernetes');
    assert.equal(line.status, 'FAIL');
    assert.match(line.detail, new RegExp(`cannot reach the API server at ${url.replace(/[.]/g, '\\.')}: ECONNREFUSED`));
    assert.equal(verdict(verdicts(result.stdout), 'loki').status, 'skip');
  });

  it('a kubeconfig that cannot be loaded is a FAIL naming the file', async () => {
    const result = await runCliToEnd(['check', '--kubeconfig', '/nonexistent/kubeconfig'], { env });
    assert.equal(result.code, 1);
    assert.match(verdict(verdicts(result.stdout), 'kubernetes').detail, /^cannot load kubeconfig \/nonexistent\/kubeconfig: ENOENT/);
  });

  it('rejected credentials are a FAIL saying 401', async () => {
    const home = cleanEnv()['HOME'] ?? '';
    const result = await runCliToEnd(['check', '--kubeconfig', writeKubeconfig(home, kube.url, 'wrong-token')], { env });
    assert.equal(result.code, 1);
    assert.match(verdict(verdicts(result.stdout), 'kubernetes').detail, /rejected the credentials \(401 Unauthorized\)/);
  });

  it('an identity that may list but not watch gets a forbidden FAIL for watch only', async () => {
    kube.deny({ verb: 'watch', resource: 'events', group: 'events.k8s.io' });
    const result = await runCliToEnd(['check', '--kubeconfig', kubeconfig, '--api', 'events.k8s.io/v1'], { env });
    assert.equal(result.code, 1);
    const lines = verdicts(result.stdout);
    assert.equal(verdict(lines, 'list events').status, 'ok');
    const watch = verdict(lines, 'watch events');
    assert.equal(watch.status, 'FAIL');
    assert.match(watch.detail, /^forbidden: may not watch events\.k8s\.io\/v1 events cluster-wide/);
  });

  it('a field selector the server refuses is a FAIL with the server\'s message, although access reviews pass', async () => {
    const result = await runCliToEnd(['check', '--kubeconfig', kubeconfig, '--field-selector', 'involvedObject.colour=red'], { env });
    assert.equal(result.code, 1, result.stdout);
    const lines = verdicts(result.stdout);
    assert.equal(verdict(lines, 'list events').status, 'ok');
    const read = verdict(lines, 'read events');
    assert.equal(read.status, 'FAIL');
    assert.match(read.detail, /^list events \(core\/v1\) cluster-wide with field selector involvedObject\.colour=red: HTTP 400: "involvedObject\.colour" is not a known field selector/);
  });

  it('the one-item list uses the field selector run sends, namespace exclusions included, in each namespace', async () => {
    const result = await runCliToEnd(
      ['check', '--kubeconfig', kubeconfig, '--namespaces', 'shop,web', '--field-selector', 'type=Warning', '--exclude-namespaces', 'kube-system'],
      { env },
    );
    assert.equal(result.code, 0, result.stdout);
    const reads = verdicts(result.stdout).filter((l) => l.item === 'read events');
    assert.deepEqual(
      reads.map((l) => [l.status, l.detail]),
      [
        ['ok', 'list events (core/v1) in namespace shop with field selector type=Warning,metadata.namespace!=kube-system: 200'],
        ['ok', 'list events (core/v1) in namespace web with field selector type=Warning,metadata.namespace!=kube-system: 200'],
      ],
    );
  });

  it('with namespaces, access is reviewed per namespace, and the lease and checkpoint too', async () => {
    const result = await runCliToEnd(
      ['check', '--kubeconfig', kubeconfig, '--namespaces', 'a,b', '--checkpoint-configmap', 'kes/cp', '--leader-elect', '--lease', 'kes/lease'],
      { env },
    );
    assert.equal(result.code, 0, result.stdout);
    const details = verdicts(result.stdout).map((l) => l.detail);
    for (const text of [
      'may list events (core/v1) in namespace a',
      'may watch events (core/v1) in namespace b',
      'may update ConfigMap cp in namespace kes',
      'may create Lease lease in namespace kes',
    ]) {
      assert.ok(details.includes(text), `${text} in ${JSON.stringify(details)}`);
    }
  });

  it('in a cluster with no checkpoint flag, check reviews access to the default checkpoint ConfigMap', async () => {
    const result = await runCliToEnd(['check', '--kubeconfig', kubeconfig], { env: { ...env, KUBERNETES_SERVICE_HOST: '127.0.0.1', POD_NAMESPACE: 'kes' } });
    assert.equal(result.code, 0, result.stdout);
    const details = verdicts(result.stdout).map((l) => l.detail);
    for (const verb of ['get', 'create', 'update']) {
      const text = `may ${verb} ConfigMap kube-event-shipper-checkpoint in namespace kes`;
      assert.ok(details.includes(text), `${text} in ${JSON.stringify(details)}`);
    }
  });

  it('against a Role that grants get and update by resourceNames only, as deploy/base does, the checkpoint and lease lines are ok', async () => {
    const rbac = await FakeKubeApiServer.start();
    try {
      for (const verb of ['get', 'update']) {
        rbac.deny({ verb, resource: 'configmaps', group: '', exceptName: 'kube-event-shipper-checkpoint' });
        rbac.deny({ verb, resource: 'leases', group: 'coordination.k8s.io', exceptName: 'kube-event-shipper' });
      }
      // create cannot be granted by name, so it must be asked without one: a named create is refused here.
      rbac.deny({ verb: 'create', name: 'kube-event-shipper-checkpoint' });
      rbac.deny({ verb: 'create', name: 'kube-event-shipper' });
      const home = cleanEnv()['HOME'] ?? '';
      const config = writeKubeconfig(home, rbac.url);
      const ha = ['--leader-elect', '--lease', 'kes/kube-event-shipper'];
      const ours = await runCliToEnd(['check', '--kubeconfig', config, '--checkpoint-configmap', 'kes/kube-event-shipper-checkpoint', ...ha], { env });
      assert.equal(ours.code, 0, ours.stdout);
      const lines = verdicts(ours.stdout);
      for (const item of ['get checkpoint', 'create checkpoint', 'update checkpoint', 'get lease', 'create lease', 'update lease']) {
        assert.equal(verdict(lines, item).status, 'ok', JSON.stringify(verdict(lines, item)));
      }

      const other = await runCliToEnd(['check', '--kubeconfig', config, '--checkpoint-configmap', 'kes/another-checkpoint'], { env });
      assert.equal(other.code, 1);
      const otherLines = verdicts(other.stdout);
      assert.match(verdict(otherLines, 'get checkpoint').detail, /^forbidden: may not get ConfigMap another-checkpoint in namespace kes/);
      assert.match(verdict(otherLines, 'update checkpoint').detail, /^forbidden: may not update ConfigMap another-checkpoint in namespace kes/);
      assert.equal(verdict(otherLines, 'create checkpoint').status, 'ok');
    } finally {
      await rbac.close();
    }
  });

  it('Loki not ready is a FAIL with the status and no push is tried', async () => {
    loki.setReady(503);
    try {
      const before = loki.requests.length;
      const result = await runCliToEnd(['check', '--kubeconfig', kubeconfig, '--loki-url', loki.url], { env });
      assert.equal(result.code, 1);
      const lines = verdicts(result.stdout);
      assert.match(verdict(lines, 'loki ready').detail, /\/ready answered 503: not ready$/);
      assert.equal(lines.some((l) => l.item === 'loki push'), false);
      assert.equal(loki.requests.length, before);
    } finally {
      loki.setReady(200);
    }
  });

  it('Loki rejecting the push is a FAIL with its answer', async () => {
    loki.script({ status: 400, body: 'stream limit exceeded for tenant' });
    const result = await runCliToEnd(['check', '--kubeconfig', kubeconfig, '--loki-url', loki.url], { env });
    assert.equal(result.code, 1);
    const lines = verdicts(result.stdout);
    assert.equal(verdict(lines, 'loki ready').status, 'ok');
    const push = verdict(lines, 'loki push');
    assert.equal(push.status, 'FAIL');
    assert.match(push.detail, /HTTP 400: stream limit exceeded for tenant/);
  });

  it('Loki unreachable is a FAIL naming the URL', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const result = await runCliToEnd(['check', '--kubeconfig', kubeconfig, '--loki-url', url], { env });
    assert.equal(result.code, 1);
    assert.match(verdict(verdicts(result.stdout), 'loki ready').detail, /cannot reach http:\/\/127\.0\.0\.1:\d+\/ready: .*ECONNREFUSED/);
  });

  it("Loki's /ready is asked with the sink's tenant, credentials and extra headers", async () => {
    // A bare HTTP server records what arrives; /ready answers 503 so no push follows.
    const seen: { path: string | undefined; headers: IncomingHttpHeaders }[] = [];
    const server = createHttpServer((req, res) => {
      seen.push({ path: req.url, headers: req.headers });
      res.writeHead(503).end('starting');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/base`;
      const result = await runCliToEnd(['check', '--kubeconfig', kubeconfig, '--loki-url', url, '--tenant', 'team-a', '--loki-headers', 'X-Api-Key=k1'], {
        env: { ...env, KES_LOKI_USERNAME: 'shipper', KES_LOKI_PASSWORD: 'pw' },
      });
      assert.equal(result.code, 1);
      assert.equal(verdict(verdicts(result.stdout), 'loki ready').detail, `${url}/ready answered 503: starting`);
      assert.equal(seen.length, 1);
      assert.equal(seen[0]?.path, '/base/ready');
      assert.equal(seen[0]?.headers['x-scope-orgid'], 'team-a');
      assert.equal(seen[0]?.headers['x-api-key'], 'k1');
      assert.equal(seen[0]?.headers.authorization, `Basic ${Buffer.from('shipper:pw').toString('base64')}`);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('check output never shows a secret', async () => {
    const secretEnv = { ...env, KES_LOKI_PASSWORD: 'hunter2-secret', KES_LOKI_USERNAME: 'shipper' };
    const result = await runCliToEnd(['check', '--kubeconfig', kubeconfig, '--loki-url', loki.url, '--log-level', 'debug'], { env: secretEnv });
    assert.doesNotMatch(result.stdout + result.stderr, /hunter2/);
    const push = loki.requests.at(-1);
    assert.equal(push?.authorization, `Basic ${Buffer.from('shipper:hunter2-secret').toString('base64')}`, 'the password was used');
  });

  describe('with --checkpoint-file', () => {
    const checkWith = async (path: string): Promise<{ code: number | null; line: Line }> => {
      const result = await runCliToEnd(['check', '--kubeconfig', kubeconfig, '--checkpoint-file', path], { env });
      const lines = verdicts(result.stdout);
      assert.equal(lines[1]?.item, 'checkpoint file', 'right after the config verdict');
      return { code: result.code, line: verdict(lines, 'checkpoint file') };
    };
    const tempDir = (): string => mkdtempSync(join(tmpdir(), 'kes-check-cp-'));

    it('no checkpoint yet in a writable directory is ok', async () => {
      const dir = tempDir();
      const { code, line } = await checkWith(join(dir, 'cp.json'));
      assert.equal(code, 0);
      assert.deepEqual([line.status, line.detail], ['ok', `${join(dir, 'cp.json')}: none yet (a first start follows --initial); directory ${dir} writable`]);
    });

    it('a valid checkpoint is ok and says how old its position is', async () => {
      const dir = tempDir();
      const path = join(dir, 'cp.json');
      writeFileSync(path, serializeCheckpoint({ resourceVersions: { '*': '42' }, positionTimeMs: Date.parse('2026-11-26T10:00:00Z'), recentIds: '' }));
      const { code, line } = await checkWith(path);
      assert.equal(code, 0);
      assert.deepEqual([line.status, line.detail], ['ok', `${path}: valid checkpoint of 2026-11-26T10:00:00.000Z (1 stream); directory ${dir} writable`]);
    });

    it('a corrupt checkpoint is a FAIL and exit 1', async () => {
      const path = join(tempDir(), 'cp.json');
      writeFileSync(path, '{"format":"something else"}');
      const { code, line } = await checkWith(path);
      assert.equal(code, 1);
      assert.equal(line.status, 'FAIL');
      assert.equal(line.detail, `${path} is not a valid checkpoint (not a kube-event-shipper checkpoint): run would ignore it and start as on a first start`);
    });

    it('a missing directory is a FAIL', async () => {
      const dir = join(tempDir(), 'missing');
      const { code, line } = await checkWith(join(dir, 'cp.json'));
      assert.equal(code, 1);
      assert.deepEqual([line.status, line.detail], ['FAIL', `${join(dir, 'cp.json')}: directory ${dir} does not exist`]);
    });

    it('a directory that is a regular file is a FAIL', async () => {
      const dir = join(tempDir(), 'file');
      writeFileSync(dir, 'x');
      const { code, line } = await checkWith(join(dir, 'cp.json'));
      assert.equal(code, 1);
      assert.deepEqual([line.status, line.detail], ['FAIL', `${join(dir, 'cp.json')}: ${dir} is not a directory`]);
    });

    it('a checkpoint path that is a directory is a FAIL', async () => {
      const path = tempDir();
      mkdirSync(join(path, 'cp.json'));
      const { code, line } = await checkWith(join(path, 'cp.json'));
      assert.equal(code, 1);
      assert.deepEqual([line.status, line.detail], ['FAIL', `${join(path, 'cp.json')} is not a regular file`]);
    });
  });
});
