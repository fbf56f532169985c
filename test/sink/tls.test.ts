import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { makeTestCerts, type TestCerts } from '../support/certs.js';
import { entry, startHarness } from './harness.js';
import { readMetrics } from '../support/metrics.js';
import { secretVolume } from '../support/secret-volume.js';

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

  it('a CA file rotated in its Secret volume is read again and the connections rebuilt with it; nothing is lost', async () => {
    const next = makeTestCerts();
    const volume = secretVolume({ 'ca.crt': certs.ca });
    const h = await startHarness({
      fake: { tls: { key: certs.serverKey, cert: certs.serverCert } },
      sink: { batchMaxWaitMs: 1, maxRetries: Infinity, tls: { ca: certs.ca }, secretFiles: { ca: volume.path('ca.crt') } },
    });
    try {
      await h.write(entry(1));
      await h.sink.flush();
      // Loki's certificate is now signed by a new CA; the old one no longer verifies it.
      h.loki.setTls({ key: next.serverKey, cert: next.serverCert });
      await h.write(entry(2));
      for (let polls = 0; (await readMetrics(h.metrics)).sum('kube_event_shipper_push_requests_total{status_code="network_error"}') < 2; polls++) {
        assert.ok(polls < 5_000, 'pushes failing on the unknown CA');
        await sleep(1);
      }
      volume.rotate({ 'ca.crt': next.ca });
      await h.sink.flush();
      assert.deepEqual(h.outcomes.get('occ-2'), [{ kind: 'delivered' }]);
      assert.deepEqual(
        h.loki.entries().map((e) => e.structuredMetadata['event_uid']),
        ['uid-1', 'uid-2'],
      );
    } finally {
      await h.close();
      volume.remove();
    }
  });
});
