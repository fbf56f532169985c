/**
 * Loki behind a gateway: the bearer token rotates (401 until the shipper reads the new token
 * file), and the gateway refuses bodies over 16 KB with 413 (the shipper splits the batch).
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { FaultRig } from './harness.js';

describe('fault suite: a gateway in front of Loki', () => {
  let rig: FaultRig | undefined;
  afterEach(async () => {
    await rig?.close();
    rig = undefined;
  });

  it('401 after a token rotation: the token file is read again and nothing is lost', async () => {
    rig = await FaultRig.start({ api: 'events.k8s.io/v1' });
    const r = rig;
    r.loki.requireAuthorization('Bearer token-one');
    const tokenFile = r.writeFile('loki-token', 'token-one\n');
    await r.spawnShipping(['--loki-bearer-token-file', tokenFile]);
    // The gateway takes the new token first; the Secret volume follows a moment later.
    r.loki.requireAuthorization('Bearer token-two');
    await r.driveFor(1_500);
    writeFileSync(tokenFile, 'token-two\n');
    await r.driveFor(500);
    await r.assertClean();
    assert.ok(r.loki.requests.some((q) => q.answer === 401), 'pushes were answered 401 in between');
  });

  it('413 from a gateway with a 16 KB body limit: batches are split until they pass', async () => {
    rig = await FaultRig.start();
    const r = rig;
    r.loki.setMaxBodyBytes(16 * 1024);
    await r.spawnShipping(['--batch-max-wait', '500ms']);
    // Incompressible 2 KB messages: 100 of them make a body far over 16 KB.
    r.create(100, { message: () => randomBytes(1500).toString('base64') });
    await r.assertClean();
    assert.ok(r.loki.requests.some((q) => q.answer === 413), 'a body was refused as too large');
  });
});
