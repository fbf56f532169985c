import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { makeTestCerts, type TestCerts } from './support/certs.js';
import { entry, startHarness } from './support/harness.js';

describe('Loki sink over TLS', { timeout: 20_000 }, () => {
  let certs: TestCerts;
  before(() => {
    certs = makeTestCerts();
  });

  it('pushes over HTTPS to a server signed by a private CA, with a client certificate', async () => {
    const h = await startHarness({
      fake: { tls: { key: certs.serverKey, cert: certs.serverCert, ca: certs.ca, requestCert: true } },
      sink: { tls: { ca: certs.ca, cert: certs.clientCert, key: Buffer.from(certs.clientKey) } },
    });
    try {
      assert.ok(h.loki.url.startsWith('https://127.0.0.1:'));
      await h.write(entry(1));
      await h.sink.flush();
      assert.deepEqual(h.outcomes.get('occ-1'), [{ kind: 'delivered' }]);
      assert.equal(h.loki.requests[0]?.clientCertCN, 'kes-client');
    } finally {
      await h.close();
    }
  });

  it('a server certificate from an unknown CA fails the push as a network error', async () => {
    const h = await startHarness({ fake: { tls: { key: certs.serverKey, cert: certs.serverCert } }, sink: { maxRetries: 0 } });
    try {
      await h.write(entry(1));
      await h.sink.flush();
      const outcome = h.outcomes.get('occ-1')?.[0];
      assert.equal(outcome?.kind === 'dropped' && outcome.reason, 'retries_exhausted');
      assert.equal(h.loki.requests.length, 0);
      assert.equal(await h.metric('kube_event_shipper_push_requests_total{status_code="network_error"}'), 1);
    } finally {
      await h.close();
    }
  });

  it('insecureSkipVerify accepts a server certificate from an unknown CA', async () => {
    const h = await startHarness({ fake: { tls: { key: certs.serverKey, cert: certs.serverCert } }, sink: { tls: { insecureSkipVerify: true } } });
    try {
      await h.write(entry(1));
      await h.sink.flush();
      assert.deepEqual(h.outcomes.get('occ-1'), [{ kind: 'delivered' }]);
    } finally {
      await h.close();
    }
  });
});
