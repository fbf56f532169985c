import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createTransformer, eventsInText, resolveTransformOptions } from '../../src/transform/index.js';
import { readFixtureText } from '../support/fixtures.js';

const corpus = eventsInText(readFixtureText('events/controllers/kubectl-get-events.json')).events.concat(
  eventsInText(readFixtureText('events/kubectl-get-events.k8s.io.json')).events,
);

describe('retiming an entry keeps its true time in the line', () => {
  for (const lineFormat of ['logfmt', 'json'] as const) {
    it(`${lineFormat}: a retimed entry is byte-identical to the entry the accept-window clamp makes of the same event`, () => {
      const options = resolveTransformOptions({ lineFormat, acceptWindowMs: 3_600_000 });
      let compared = 0;
      for (const raw of corpus) {
        // Long after the event: the clamp moves it. At the event's own time: it keeps its time.
        const normalized = createTransformer(options, { now: () => 0 }).normalize(raw);
        if (!normalized.ok) continue;
        const occurredMs = Number(normalized.event.occurredAtNs / 1_000_000n);
        const clamped = createTransformer(options, { now: () => occurredMs + 10 * 3_600_000 }).toEntry(normalized.event);
        const atTrueTime = createTransformer(options, { now: () => occurredMs });
        const entry = atTrueTime.toEntry(normalized.event);
        assert.equal(entry.retimed, undefined);
        assert.equal(clamped.retimed, 'too_old');
        const retimed = atTrueTime.retime(entry, clamped.timestampNs);
        assert.equal(retimed.line, clamped.line);
        assert.equal(retimed.timestampNs, clamped.timestampNs);
        assert.equal(retimed.retimed, 'out_of_order');
        assert.deepEqual({ ...retimed, line: '', timestampNs: 0n, retimed: undefined }, { ...entry, line: '', timestampNs: 0n, retimed: undefined });
        // Moved again (already off its true time): the line keeps the one original time.
        const twice = atTrueTime.retime(clamped, clamped.timestampNs + 1n);
        assert.equal(twice.line, clamped.line);
        assert.equal(twice.retimed, 'too_old');
        compared += 1;
      }
      assert.ok(compared > 100, `${compared} events compared`);
      if (lineFormat === 'json') assert.equal(typeof (JSON.parse(atLeastOne(corpus, options)) as Record<string, unknown>)['original_ts'], 'string');
    });
  }

  it('leaves an entry untouched when the time does not change', () => {
    const t = createTransformer(resolveTransformOptions({}), { now: () => Date.now() });
    const n = t.normalize(corpus[0]);
    assert.ok(n.ok);
    const entry = t.toEntry(n.event);
    assert.equal(t.retime(entry, entry.timestampNs), entry);
  });
});

function atLeastOne(events: readonly unknown[], options: ReturnType<typeof resolveTransformOptions>): string {
  const t = createTransformer(options, { now: () => Date.now() });
  for (const raw of events) {
    const n = t.normalize(raw);
    if (n.ok) {
      const entry = t.toEntry(n.event);
      return t.retime(entry, entry.timestampNs + 1n).line;
    }
  }
  throw new Error('no event');
}
