/**
 * Bad input from the API server, mixed into a stream of good events: malformed objects, 1 MB
 * messages, invalid UTF-8, unknown watch event types and lines that are not JSON. Each bad object
 * is counted and logged, every good one is shipped, the process keeps running within its memory cap.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { coreEvent } from '../fakes/kube-events.js';
import { FaultRig, RSS_CAP_BYTES, isoAgo, occurrenceKey } from './harness.js';

describe('fault suite: bad input from the API server', () => {
  let rig: FaultRig | undefined;
  afterEach(async () => {
    await rig?.close();
    rig = undefined;
  });

  it('malformed objects, 1 MB messages, invalid UTF-8 and unknown watch event types: the bad are counted, the good all shipped', async () => {
    rig = await FaultRig.start();
    const r = rig;
    const shipper = await r.spawnShipping();

    // Malformed objects, stored by the API server as they are (not in the ledger: nothing to ship).
    const malformed = [
      { ...coreEvent({ namespace: 'bad', objectName: 'count-text', time: isoAgo() }), count: 'three' },
      { ...coreEvent({ namespace: 'bad', objectName: 'bad-time', time: isoAgo() }), lastTimestamp: 'yesterday', firstTimestamp: 'yesterday', metadata: { name: 'bad-time', namespace: 'bad', creationTimestamp: 'never' } },
      { ...coreEvent({ namespace: 'bad', objectName: 'no-object', time: isoAgo() }), involvedObject: 'web-0' },
    ];
    for (const obj of malformed) r.kube.createEvent(obj);
    r.create(5);

    // 1 MB messages: shipped with the message cut, without the memory growing with them.
    r.create(20, { message: (i) => `${i}:`.padEnd(1024 * 1024, 'x') });
    r.create(5);

    // What the typed API cannot make: raw lines in the watch stream.
    const rv = String(r.kube.resourceVersion);
    const good = coreEvent({ namespace: 'raw', objectName: 'utf8', time: isoAgo(), message: '@@BAD@@' });
    (good['metadata'] as Record<string, unknown>)['resourceVersion'] = rv;
    const uid = String((good['metadata'] as { uid: string }).uid);
    const [head, tail] = JSON.stringify({ type: 'ADDED', object: good }).split('@@BAD@@');
    r.kube.sendRaw(Buffer.concat([Buffer.from(`${head}invalid `), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from(` utf-8${tail}`)]));
    r.created.push(occurrenceKey(uid, 1));
    const unknown = coreEvent({ namespace: 'raw', objectName: 'unknown-type', time: isoAgo() });
    (unknown['metadata'] as Record<string, unknown>)['resourceVersion'] = rv;
    r.kube.sendRaw(JSON.stringify({ type: 'SYNCED', object: unknown }));
    r.kube.sendRaw('this is not JSON {');
    r.kube.sendRaw(JSON.stringify({ type: 'ADDED', object: 'not an object' }));
    r.create(5);
    r.bump(10);

    await r.assertClean({ timeoutMs: 30_000 });
    const utf8 = r.storedEntries().find((e) => e.structuredMetadata['event_uid'] === uid);
    // Decoded as U+FFFD, which the line shows as '?' (Loki's parsers drop values holding U+FFFD).
    assert.match(utf8?.line ?? '', /msg="invalid \?+ utf-8"/, 'the event with invalid bytes is shipped, readable');
    const cut = r.storedEntries().filter((e) => e.line.includes('xxxx'));
    assert.equal(new Set(cut.map((e) => e.structuredMetadata['event_uid'])).size, 20, 'the 1 MB messages were shipped');
    assert.ok(cut.every((e) => Buffer.byteLength(e.line) < 64 * 1024), 'each cut to the message limit');
    assert.ok(
      (await shipper.metric('kube_event_shipper_events_dropped_total', { reason: 'malformed' })) >= malformed.length,
      'every malformed object counted',
    );
    assert.ok(shipper.peakRssBytes() < RSS_CAP_BYTES);
  });
});
