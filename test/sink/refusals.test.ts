import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatLabels } from '../../src/sink/loki/labels.js';
import { readRefusals, type SentStream } from '../../src/sink/loki/refusals.js';
import { readFixtureJson } from '../support/fixtures.js';

const recorded = (readFixtureJson('loki-push/loki-refusals.json') as { cases: Record<string, { body: string }> }).cases;
const at = (iso: string): bigint => BigInt(Date.parse(iso)) * 1_000_000n;

let nextIndex = 0;
function sent(labels: Record<string, string>, entries: { ts: bigint; lineBytes?: number; metadataCount?: number; metadataBytes?: number }[]): SentStream {
  return {
    labels,
    labelString: formatLabels(labels),
    entries: entries.map((e) => ({ index: nextIndex++, timestampNs: e.ts, lineBytes: e.lineBytes ?? 10, metadataCount: e.metadataCount ?? 0, metadataBytes: e.metadataBytes ?? 0 })),
  };
}
const named = (reading: ReturnType<typeof readRefusals>): Record<number, string> => Object.fromEntries(reading.refused);

describe('reading the entries a Loki 400 refused', () => {
  it('the recorded out-of-order answer: the stream it names (with the service_name Loki added) loses its N oldest entries', () => {
    nextIndex = 0;
    const shipper = { cluster: 'day10532', job: 'kube-event-shipper', kind: 'CronJob', namespace: 'team-12', reason: 'SuccessfulDelete', source: 'cronjob-controller', type: 'Normal' };
    const streams = [
      sent({ ...shipper, namespace: 'other' }, [{ ts: at('2026-12-01T07:15:25Z') }]),
      sent(shipper, [{ ts: at('2026-12-01T07:15:25Z') }, { ts: at('2026-12-01T07:16:25Z') }, { ts: at('2026-12-01T15:00:00Z') }]),
    ];
    const reading = readRefusals(recorded['out-of-order']?.body ?? '', streams);
    assert.deepEqual(named(reading), { 1: 'too_far_behind', 2: 'too_far_behind' });
    assert.equal(reading.unmatched, 0);
  });

  for (const [name, reason] of [
    ['old-sample', 'too_old'],
    ['future', 'too_new'],
    ['line-too-long', 'line_too_long'],
  ] as const) {
    it(`the recorded ${name} answer names the one entry it refused (${reason})`, () => {
      nextIndex = 0;
      const streams = [
        sent({ case: name === 'old-sample' ? 'old' : name === 'future' ? 'future' : 'long', job: 't' }, [
          { ts: 1_795_472_117_000_000_000n, lineBytes: 300_000 },
          { ts: 1_796_163_317_000_000_000n },
          { ts: 1_796_166_917_000_000_000n },
        ]),
      ];
      const expected = { 'old-sample': 0, future: 2, 'line-too-long': 0 }[name];
      assert.deepEqual(named(readRefusals(recorded[name]?.body ?? '', streams)), { [expected]: reason });
    });
  }

  it('the recorded too-many-labels answer refuses every entry of that stream', () => {
    nextIndex = 0;
    const many = Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`l${i}`, 'v']));
    const streams = [sent(many, [{ ts: 1n }, { ts: 2n }]), sent({ job: 'x' }, [{ ts: 1n }])];
    assert.deepEqual(named(readRefusals(recorded['too-many-labels']?.body ?? '', streams)), { 0: 'too_many_labels', 1: 'too_many_labels' });
  });

  it('grouped messages ("N errors like: …; …") each take their count, and "; limit" inside a message does not split it', () => {
    nextIndex = 0;
    const streams = [
      sent({ job: 'a', app: 'web' }, [{ ts: at('2026-11-01T10:00:00.100Z') }, { ts: at('2026-11-01T10:00:00.200Z') }, { ts: at('2026-11-01T10:00:00.300Z') }, { ts: at('2026-12-01T10:00:00Z') }]),
      sent({ job: 'b', l: 'quote " back\\slash\nnewline ü' }, [{ ts: at('2026-12-01T10:00:00Z') }]),
    ];
    const body =
      `2 errors like: entry for stream '{app="web", job="a", service_name="web"}' has timestamp too old: 2026-11-01T10:00:00Z, oldest acceptable timestamp is: 2026-11-24T22:16:47Z; ` +
      `1 errors like: entry for stream '{job="b", l="quote \\" back\\\\slash\\nnewline ü", service_name="b"}' has 16 label names; limit 15\n`;
    assert.deepEqual(named(readRefusals(body, streams)), { 0: 'too_old', 1: 'too_old', 4: 'too_many_labels' });
  });

  it('an answer that names nothing we sent, or is not Loki\'s, refuses nothing and says so', () => {
    nextIndex = 0;
    const streams = [sent({ job: 'a' }, [{ ts: 1n }])];
    for (const body of ['<html>400 Bad Request</html>', "entry for stream '{job=\"zzz\", service_name=\"zzz\"}' has timestamp too new: 2026-12-01T23:15:17Z\n", '']) {
      const reading = readRefusals(body, streams);
      assert.equal(reading.refused.size, 0, body);
      assert.ok(reading.unmatched > 0, body);
    }
  });

  it('a time printed with a fraction and another zone (Go\'s Time.String, TZ set) still counts the stream\'s oldest', () => {
    nextIndex = 0;
    const streams = [sent({ job: 'a' }, [{ ts: at('2026-12-01T06:15:25.5Z') }, { ts: at('2026-12-01T09:00:00Z') }])];
    const body =
      "entry with timestamp 2026-12-01 07:15:25.5 +0100 CET ignored, reason: 'entry too far behind, entry timestamp is: 2026-12-01T07:15:25+01:00, oldest acceptable timestamp is: 2026-12-01T08:42:30+01:00',\n" +
      "user 'fake', total ignored: 1 out of 2 for stream: {job=\"a\", service_name=\"a\"}\n";
    assert.deepEqual(named(readRefusals(body, streams)), { 0: 'too_far_behind' });
  });
});
