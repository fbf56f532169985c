import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runWithConfigFile } from '../support/run-cli.js';

interface Case {
  readonly name: string;
  readonly args: string[];
  readonly env?: Record<string, string>;
  readonly file?: string;
  /** Must not appear anywhere in the output. */
  readonly secrets: readonly string[];
  readonly reason: RegExp;
}

describe('config errors from the built binary never echo a secret', () => {
  const cases: Case[] = [
    {
      name: 'a Loki URL with credentials is refused with its user info redacted',
      args: ['run', '--loki-url', 'http://admin:s3cretPW@loki:3100'],
      secrets: ['s3cretPW', 'admin'],
      reason: /^kube-event-shipper: invalid --loki-url "http:\/\/<redacted>@loki:3100": expected a URL without credentials/,
    },
    {
      name: 'a Loki URL with credentials from the environment is redacted too',
      args: ['check'],
      env: { KES_LOKI_URL: 'https://admin:s3cretPW@loki.example:3100/prefix' },
      secrets: ['s3cretPW', 'admin'],
      reason: /^kube-event-shipper: invalid KES_LOKI_URL "https:\/\/<redacted>@loki\.example:3100\/prefix": expected a URL without credentials/,
    },
    {
      name: 'an unparsable Loki URL with user info is redacted',
      args: ['run', '--loki-url', 'admin:s3cretPW@loki:3100'],
      secrets: ['s3cretPW', 'admin'],
      reason: /^kube-event-shipper: invalid --loki-url "<redacted>@loki:3100": expected an http:\/\/ or https:\/\/ URL/,
    },
    {
      name: 'a header written as Name:value shows no value and says what is expected',
      args: ['run', '--loki-headers', 'X-Api-Key:SECRETKEY'],
      secrets: ['SECRETKEY', 'X-Api-Key'],
      reason: /^kube-event-shipper: invalid --loki-headers \(header names: <item without "=">\): expected comma-separated key=value pairs$/,
    },
    {
      name: 'a header name that is not a token shows neither it nor the value',
      args: ['run', '--loki-headers', 'X-Org=acme,X-Api-Key: SECRET=KEY'],
      secrets: ['SECRET', 'KEY', 'acme'],
      reason: /^kube-event-shipper: invalid --loki-headers \(header names: X-Org, <invalid name>\): expected comma-separated name=value pairs with HTTP header names$/,
    },
    {
      name: 'headers from the config file show their names only',
      args: ['run'],
      file: 'lokiHeaders:\n  - X-Api-Key\n  - SECRETKEY\n',
      secrets: ['SECRETKEY', 'X-Api-Key'],
      reason: /^kube-event-shipper: invalid lokiHeaders in .*config\.yaml \(header names: <value>\): expected comma-separated key=value pairs$/,
    },
    {
      name: 'a static label without "=" says key=value pairs are expected, not "Invalid input"',
      args: ['run', '--static-labels', 'a'],
      secrets: ['Invalid input'],
      reason: /^kube-event-shipper: invalid --static-labels "a": expected comma-separated key=value pairs$/,
    },
    {
      name: 'a list given as a YAML mapping says a list is expected, not "Invalid input"',
      args: ['run'],
      file: 'namespaces:\n  shop: true\n',
      secrets: ['Invalid input'],
      reason: /^kube-event-shipper: invalid namespaces in .*config\.yaml \{"shop":true\}: expected a comma-separated list$/,
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const result = await runWithConfigFile(c);
      assert.equal(result.code, 2, result.stderr);
      assert.equal(result.stdout, '');
      assert.match(result.stderr.trimEnd(), c.reason);
      assert.equal(result.stderr.trimEnd().split('\n').length, 1, 'one line');
      for (const secret of c.secrets) assert.ok(!result.stderr.includes(secret), `stderr shows ${secret}: ${result.stderr}`);
    });
  }
});
