import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { envName, flagName, OPTION_SPECS } from '../../src/config/index.js';
import { cleanEnv, runCliToEnd, runWithConfigFile } from '../support/run-cli.js';

/** Help entries by option, with commander's wrapped continuation lines joined. */
function optionEntries(help: string): string[] {
  const entries: string[] = [];
  for (const line of help.split('\n')) {
    if (/^ {2}-/.test(line)) entries.push(line.trim());
    else if (/^ {4,}\S/.test(line) && entries.length > 0) entries[entries.length - 1] += ' ' + line.trim();
  }
  return entries;
}

function oneLine(stderr: string): string {
  const lines = stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, `expected one line on stderr, got: ${stderr}`);
  return lines[0] ?? '';
}

describe('kube-event-shipper usage errors', () => {
  const cases: { name: string; args: string[]; env?: Record<string, string>; file?: string; reason: RegExp }[] = [
    { name: 'an unknown flag gives exit 2 and a suggestion', args: ['run', '--lok-url', 'http://x'], reason: /unknown option '--lok-url' \(Did you mean --loki-url\?\)\n$/ },
    { name: 'a bad duration flag names the flag and the expected form', args: ['run', '--grace-period', 'soon'], reason: /invalid --grace-period "soon": expected a duration like/ },
    { name: 'a bad boolean flag value is refused', args: ['run', '--leader-elect=maybe'], reason: /invalid --leader-elect "maybe": expected true or false/ },
    { name: 'a bad env value names the env variable', args: ['run'], env: { KES_API: 'v3' }, reason: /invalid KES_API "v3": expected one of core\/v1, events\.k8s\.io\/v1/ },
    { name: 'leader election without a lease is refused', args: ['run', '--leader-elect'], reason: /--leader-elect is on but --lease is not set/ },
    { name: 'a bad config file value names the key and the file', args: ['run'], file: 'pageSize: lots\n', reason: /invalid pageSize in .*config\.yaml "lots": expected a whole number/ },
    { name: 'an unknown config file key is refused', args: ['check'], file: 'lokiURL: http://x\n', reason: /unknown key "lokiURL" in config file/ },
    { name: 'a missing config file is refused', args: ['run', '--config', '/nonexistent/kes.yaml'], reason: /cannot read config file \/nonexistent\/kes\.yaml: ENOENT/ },
    { name: 'a high-cardinality label is refused by the transform rules', args: ['run', '--labels', 'namespace,name'], reason: /invalid --labels "namespace,name": expected event labels only: "name" has a value per object or event/ },
    { name: 'an accept window under 1h names the flag', args: ['replay', '-', '--accept-window', '30m'], reason: /^kube-event-shipper: invalid --accept-window "30m": expected a duration ≥ 1h\n$/ },
    { name: 'a message limit over 128KiB names the flag', args: ['replay', '-', '--max-message-bytes', '200KiB'], reason: /^kube-event-shipper: invalid --max-message-bytes "200KiB": expected a byte size between 256 and 131072 \(128KiB\)\n$/ },
    { name: 'a message limit in a config file names the key and the file', args: ['replay', '-'], file: 'maxMessageBytes: 100\n', reason: /invalid maxMessageBytes in .*config\.yaml 100: expected a byte size between 256/ },
    { name: 'a static label clashing with an event label names the flag', args: ['run', '--static-labels', 'reason=x'], reason: /invalid --static-labels "reason=x": expected labels Loki accepts: "reason" clashes/ },
    { name: 'a broken regular expression filter names the flag', args: ['run', '--reasons', '/(/'], reason: /invalid --reasons "\/\(\/": expected exact values or \/regular expressions\// },
    { name: 'a kubeconfig that cannot be loaded stops run with exit 2', args: ['run', '--kubeconfig', '/nonexistent/kubeconfig'], reason: /cannot load kubeconfig \/nonexistent\/kubeconfig: ENOENT/ },
    { name: 'a missing replay argument is a usage error', args: ['replay'], reason: /missing required argument/ },
    { name: 'an unknown command is a usage error', args: ['frobnicate'], reason: /too many arguments|unknown command/ },
    { name: 'a mistyped command is named as an unknown command with a suggestion', args: ['chek'], reason: /^kube-event-shipper: unknown command 'chek' \(Did you mean check\?\): expected one of run, replay, check, dashboards\n$/ },
    { name: 'a command nothing resembles is named as an unknown command', args: ['frobnicate'], reason: /^kube-event-shipper: unknown command 'frobnicate': expected one of run, replay, check, dashboards\n$/ },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const result = await runWithConfigFile(c);
      assert.equal(result.code, 2, result.stderr);
      assert.match(oneLine(result.stderr), /^kube-event-shipper: /);
      assert.match(result.stderr, c.reason);
      assert.equal(result.stdout, '');
    });
  }

  it('with no kubeconfig anywhere and not in a cluster, run fails at once saying where it looked (exit 2)', async () => {
    // Only PATH and an empty HOME: no KUBECONFIG, no ~/.kube/config, no KUBERNETES_SERVICE_HOST.
    const home = mkdtempSync(join(tmpdir(), 'kes-empty-home-'));
    const result = await runCliToEnd(['run', '--listen', '127.0.0.1:0'], { env: { PATH: process.env['PATH'] ?? '', HOME: home } });
    assert.equal(result.code, 2, result.stderr);
    assert.equal(
      oneLine(result.stderr),
      `kube-event-shipper: no kubeconfig found: looked for --kubeconfig (not given), KUBECONFIG (unset), ${join(home, '.kube', 'config')} (missing) and in-cluster (KUBERNETES_SERVICE_HOST unset)`,
    );
    assert.equal(result.stdout, '');
  });

  it('a secret in a config error never reaches stderr', async () => {
    const env = cleanEnv({ KES_LOKI_PASSWORD: 'hunter2-secret' });
    const result = await runCliToEnd(['check'], { env });
    assert.equal(result.code, 2);
    assert.doesNotMatch(result.stderr, /hunter2/);
    assert.match(result.stderr, /--loki-username and a password .* go together/);
  });
});

describe('kube-event-shipper --help', () => {
  it('run --help lists every option with its env variable and its default', async () => {
    const result = await runCliToEnd(['run', '--help'], { env: cleanEnv() });
    assert.equal(result.code, 0);
    for (const spec of OPTION_SPECS) {
      const line = optionEntries(result.stdout).find((l) => l.startsWith(flagName(spec.key) + ' '));
      assert.ok(line, `${flagName(spec.key)} is listed`);
      assert.ok(line.includes(`env: ${envName(spec.key)}`), `${flagName(spec.key)} shows its env twin: ${line}`);
      if (spec.default !== undefined) assert.ok(line.includes('default: '), `${flagName(spec.key)} shows its default: ${line}`);
    }
  });

  it('each command has its own help, and secrets are not shown', async () => {
    const env = cleanEnv({ KES_LOKI_PASSWORD: 'hunter2-secret' });
    for (const command of ['replay', 'check', 'dashboards']) {
      const result = await runCliToEnd([command, '--help'], { env });
      assert.equal(result.code, 0, command);
      assert.match(result.stdout, new RegExp(`^Usage: kube-event-shipper ${command}`));
      assert.doesNotMatch(result.stdout, /hunter2/);
    }
    const replay = await runCliToEnd(['replay', '--help'], { env });
    assert.ok(optionEntries(replay.stdout).some((l) => /^--loki-url <url> .*env: KES_LOKI_URL/.test(l)));
    assert.doesNotMatch(replay.stdout, /--lease /, 'replay has no leader election');
  });

  it('--kubeconfig help gives client-node\'s lookup order: KUBECONFIG, ~/.kube/config, in-cluster', async () => {
    const result = await runCliToEnd(['run', '--help'], { env: cleanEnv() });
    const line = optionEntries(result.stdout).find((l) => l.startsWith('--kubeconfig '));
    assert.match(line ?? '', /default: KUBECONFIG, then ~\/\.kube\/config, then in-cluster\)/);
  });

  it('the top-level help says run is the default command', async () => {
    const result = await runCliToEnd(['--help'], { env: cleanEnv() });
    assert.equal(result.code, 0);
    assert.match(result.stdout, /Without a command it runs `run`\./);
    assert.match(result.stdout, /^ {2}run \[options\] +the default command: watch events/m);
  });

  it('check --help lists only what check uses and does not say lines go to stdout', async () => {
    const result = await runCliToEnd(['check', '--help'], { env: cleanEnv() });
    assert.equal(result.code, 0);
    const entries = optionEntries(result.stdout);
    for (const flag of ['--listen', '--grace-period', '--batch-max-bytes', '--batch-max-entries', '--batch-max-wait', '--queue-max-bytes', '--initial', '--page-size', '--stall-timeout', '--checkpoint-interval', '--health-stall-timeout', '--lease-duration', '--lease-renew-deadline', '--lease-retry-period']) {
      assert.ok(!entries.some((l) => l.startsWith(flag + ' ')), `${flag} is not listed`);
    }
    for (const flag of ['--loki-url', '--kubeconfig', '--api', '--namespaces', '--field-selector', '--checkpoint-configmap', '--checkpoint-file', '--lease']) {
      assert.ok(entries.some((l) => l.startsWith(flag + ' ')), `${flag} is listed`);
    }
    assert.doesNotMatch(result.stdout, /lines go to stdout/);
    assert.ok(entries.some((l) => /^--loki-url <url> .*without it, the Loki checks are skipped/.test(l)));
  });

  it('check still accepts the run-only flags it hides, so it takes the same command line as run', async () => {
    const result = await runCliToEnd(['check', '--listen', ':9999', '--grace-period', '10s', '--batch-max-wait', '2s', '--kubeconfig', '/nonexistent/kubeconfig'], { env: cleanEnv() });
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stdout, /^ok {4}config/m);
  });

  it('--version prints the package version', async () => {
    const result = await runCliToEnd(['--version']);
    assert.equal(result.code, 0);
    assert.match(result.stdout, /^\d+\.\d+\.\d+\n$/);
  });
});
