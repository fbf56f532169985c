/** Property tests over generated event-like objects, in both API shapes and both line formats. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { Entry } from '../../src/core/entry.js';
import { createTransformer, DEFAULT_TRANSFORM_OPTIONS, type NormalizedEvent, type TransformOptions } from '../../src/transform/index.js';
import { cutMessage, lineFields } from '../../src/transform/line.js';
import { lokiLogfmt } from '../support/loki-logfmt.js';

const NOW = Date.parse('2026-11-26T21:00:00Z');
const RUNS = Number(process.env.PROPERTY_RUNS ?? 300);
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Text that stresses quoting: quotes, backslashes, '=', whitespace, controls, U+FFFD, emoji. */
const SPECIALS = ['"', '\\', '=', ' ', '\n', '\t', '\r', '\u0001', '\u001b', '\u007f', 'é', '🚀', '构', '\uFFFD', '\u00a0', '\u2028', 'key=value', 'a', 'Z', '0'];
const trickyText = (maxLength = 40): fc.Arbitrary<string> =>
  fc.oneof(
    fc.string({ unit: fc.constantFrom(...SPECIALS), maxLength }),
    fc.string({ unit: 'binary', maxLength }),
    fc.string({ unit: 'grapheme-ascii', maxLength }),
  ).map((s) => s.replaceAll('\u0000', '0')); // NUL marks binary text, tested on its own
const nonEmpty = trickyText().filter((s) => s !== '');
const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));

const timestamp = fc
  .tuple(fc.integer({ min: Date.parse('1971-01-01T00:00:00Z'), max: Date.parse('2099-12-31T23:59:59Z') }), fc.constantFrom('', '.5', '.074287', '.907656123', '.000001'))
  .map(([ms, frac]) => `${new Date(ms - (ms % 1000)).toISOString().slice(0, 19)}${frac}Z`);

interface Model {
  uid: string;
  name: string;
  namespace: string;
  resourceVersion: string;
  created: string | null;
  kind: string;
  objectNamespace: string;
  objectName: string;
  objectUid: string;
  reason: string;
  type: string;
  message: string;
  component: string | null;
  host: string | null;
  reporter: string | null;
  instance: string | null;
  action: string | null;
  related: { kind: string; namespace: string; name: string } | null;
  count: number | null;
  series: { count: number; lastObservedTime: string } | null;
  first: string | null;
  last: string | null;
  eventTime: string | null;
}

const model: fc.Arbitrary<Model> = fc.record({
  uid: nonEmpty,
  name: nonEmpty,
  namespace: trickyText(),
  resourceVersion: fc.nat().map(String),
  created: fc.option(timestamp),
  kind: trickyText(),
  objectNamespace: trickyText(),
  objectName: trickyText(),
  objectUid: trickyText(),
  reason: trickyText(),
  type: fc.oneof(fc.constantFrom('Normal', 'Warning'), trickyText()),
  message: fc.oneof(trickyText(200), fc.string({ unit: fc.constantFrom(...SPECIALS), minLength: 300, maxLength: 2000 })),
  component: fc.option(trickyText()),
  host: fc.option(trickyText()),
  reporter: fc.option(trickyText()),
  instance: fc.option(trickyText()),
  action: fc.option(trickyText()),
  related: fc.option(fc.record({ kind: trickyText(), namespace: trickyText(), name: trickyText() })),
  count: fc.option(fc.nat({ max: 1_000_000 })),
  series: fc.option(fc.record({ count: fc.integer({ min: 1, max: 1000 }), lastObservedTime: timestamp })),
  first: fc.option(timestamp),
  last: fc.option(timestamp),
  eventTime: fc.option(timestamp),
});

/** The same event as the core/v1 API serialises it. */
function asCore(m: Model): Record<string, unknown> {
  return {
    kind: 'Event',
    apiVersion: 'v1',
    metadata: { name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion, creationTimestamp: m.created ?? '2026-11-26T20:24:11Z' },
    involvedObject: { kind: m.kind, namespace: m.objectNamespace, name: m.objectName, uid: m.objectUid },
    reason: m.reason,
    message: m.message,
    source: { component: m.component, host: m.host },
    firstTimestamp: m.first,
    lastTimestamp: m.last,
    count: m.count,
    type: m.type,
    eventTime: m.eventTime,
    series: m.series,
    action: m.action,
    related: m.related,
    reportingComponent: m.reporter,
    reportingInstance: m.instance,
  };
}

/** The same event as events.k8s.io/v1 serialises it. */
function asEvents(m: Model): Record<string, unknown> {
  return {
    kind: 'Event',
    apiVersion: 'events.k8s.io/v1',
    metadata: { name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion, creationTimestamp: m.created ?? '2026-11-26T20:24:11Z' },
    eventTime: m.eventTime,
    series: m.series,
    reportingController: m.reporter,
    reportingInstance: m.instance,
    action: m.action,
    reason: m.reason,
    regarding: { kind: m.kind, namespace: m.objectNamespace, name: m.objectName, uid: m.objectUid },
    related: m.related,
    note: m.message,
    type: m.type,
    deprecatedSource: { component: m.component, host: m.host },
    deprecatedFirstTimestamp: m.first,
    deprecatedLastTimestamp: m.last,
    deprecatedCount: m.count,
  };
}

const options: fc.Arbitrary<TransformOptions> = fc.record({
  labels: fc.subarray(['namespace', 'reason', 'type', 'kind', 'source'] as const),
  staticLabels: fc.constantFrom<Record<string, string>>({}, { job: 'kube-event-shipper' }, { cluster: 'prod-eu', job: 'x' }),
  lineFormat: fc.constantFrom('logfmt' as const, 'json' as const),
  structuredMetadata: fc.boolean(),
  maxMessageBytes: fc.integer({ min: 256, max: 4096 }),
  acceptWindowMs: fc.constantFrom(3_600_000, 6 * 24 * 3_600_000),
});

function entryFor(opts: TransformOptions, raw: unknown): { event: NormalizedEvent; entry: Entry } {
  const transformer = createTransformer(opts, { now: () => NOW });
  const result = transformer.normalize(raw);
  assert.ok(result.ok, result.ok ? '' : `${result.reason}: ${result.detail}`);
  return { event: result.event, entry: transformer.toEntry(result.event) };
}

/** The original time when the entry was clamped (generated times run from 1971 to 2099, NOW is 2026). */
function clampedFrom(event: NormalizedEvent, entry: Entry): bigint | undefined {
  return entry.timestampNs === event.occurredAtNs ? undefined : event.occurredAtNs;
}

function assertValidValue(value: string, what: string): void {
  assert.notEqual(value, '', `${what} is empty`);
  assert.ok(Buffer.byteLength(value) <= 1024, `${what} is longer than 1024 bytes`);
  assert.equal(Buffer.from(value, 'utf8').toString('utf8'), value, `${what} is not valid UTF-8`);
  assert.ok(!value.includes('\uFFFD'), `${what} holds U+FFFD`);
}

describe('properties of the transform', () => {
  it('normalize never throws, whatever it is given', () => {
    const transformer = createTransformer(DEFAULT_TRANSFORM_OPTIONS, { now: () => NOW });
    fc.assert(
      fc.property(fc.anything({ withNullPrototype: true, withBigInt: true, withDate: true, withMap: true, withSparseArray: true }), (raw) => {
        const result = transformer.normalize(raw);
        if (result.ok) transformer.toEntry(result.event);
      }),
      { numRuns: RUNS * 3 },
    );
  });

  it('normalize never throws when any field of a real-looking event has an arbitrary value', () => {
    const transformer = createTransformer(DEFAULT_TRANSFORM_OPTIONS, { now: () => NOW });
    const fields = Object.keys(asCore({} as Model)).concat(Object.keys(asEvents({} as Model)));
    fc.assert(
      fc.property(model, fc.boolean(), fc.constantFrom(...fields), fc.anything(), (m, core, field, value) => {
        const raw = core ? asCore(m) : asEvents(m);
        raw[field] = value;
        const result = transformer.normalize(raw);
        if (result.ok) transformer.toEntry(result.event);
      }),
      { numRuns: RUNS },
    );
  });

  it('labels, structured metadata and lines are always valid for Loki', () => {
    fc.assert(
      fc.property(model, options, ({ ...m }, opts) => {
        const { entry } = entryFor(opts, asCore(m));
        assert.equal(Object.keys(entry.labels).length, opts.labels.length + Object.keys(opts.staticLabels).length);
        for (const [name, value] of Object.entries(entry.labels)) {
          assert.match(name, LABEL_NAME);
          assertValidValue(value, `label ${name}`);
        }
        for (const [name, value] of Object.entries(entry.structuredMetadata)) {
          assert.ok(['object_name', 'object_uid', 'node', 'event_uid', 'level', 'occurrences'].includes(name), name);
          assertValidValue(value, `metadata ${name}`);
        }
        assert.ok(Buffer.byteLength(entry.line) <= 256 * 1024);
        assert.ok(!entry.line.includes('\uFFFD'));
      }),
      { numRuns: RUNS },
    );
  });

  it("every logfmt line reads back exactly through Loki's | logfmt", () => {
    fc.assert(
      fc.property(model, fc.integer({ min: 256, max: 4096 }), (m, maxMessageBytes) => {
        const { event, entry } = entryFor({ ...DEFAULT_TRANSFORM_OPTIONS, maxMessageBytes }, asCore(m));
        const expected = lineFields(event, cutMessage(event.message, maxMessageBytes), clampedFrom(event, entry)).map(([k, v]) => [k, String(v)]);
        const decoded = lokiLogfmt(entry.line);
        assert.equal(decoded.error, false);
        assert.deepEqual([...decoded.fields], expected);
        if (event.message !== '' && Buffer.byteLength(event.message) <= maxMessageBytes) assert.equal(decoded.fields.get('msg'), event.message);
      }),
      { numRuns: RUNS },
    );
  });

  it('every json line parses back to the same fields in the same order', () => {
    fc.assert(
      fc.property(model, (m) => {
        const { event, entry } = entryFor({ ...DEFAULT_TRANSFORM_OPTIONS, lineFormat: 'json' }, asCore(m));
        const expected = lineFields(event, cutMessage(event.message, DEFAULT_TRANSFORM_OPTIONS.maxMessageBytes), clampedFrom(event, entry));
        assert.deepEqual(Object.entries(JSON.parse(entry.line) as object), expected);
      }),
      { numRuns: RUNS },
    );
  });

  it('the same input gives a byte-identical entry, also after a JSON round trip', () => {
    fc.assert(
      fc.property(model, options, (m, opts) => {
        const a = entryFor(opts, asCore(m)).entry;
        const b = entryFor(opts, JSON.parse(JSON.stringify(asCore(m))) as unknown).entry;
        assert.deepEqual(b, a);
      }),
      { numRuns: RUNS },
    );
  });

  it('both API shapes of the same event give the same entry', () => {
    fc.assert(
      fc.property(model, options, (m, opts) => {
        assert.deepEqual(entryFor(opts, asEvents(m)).entry, entryFor(opts, asCore(m)).entry);
      }),
      { numRuns: RUNS },
    );
  });

  it('a metadata-only change keeps the occurrence id and the whole entry', () => {
    const metadataChange = fc.record({
      resourceVersion: fc.nat().map(String),
      labels: fc.dictionary(fc.string({ minLength: 1, maxLength: 10 }), fc.string({ maxLength: 10 })),
      annotations: fc.dictionary(fc.string({ minLength: 1, maxLength: 10 }), fc.string({ maxLength: 10 })),
      generation: fc.nat(),
      managedFields: fc.array(fc.record({ manager: fc.string(), operation: fc.constantFrom('Update', 'Apply') }), { maxLength: 2 }),
    });
    fc.assert(
      fc.property(model, fc.boolean(), metadataChange, (m, core, change) => {
        const before = core ? asCore(m) : asEvents(m);
        const after = structuredClone(before);
        Object.assign(after.metadata as object, change);
        const opts = DEFAULT_TRANSFORM_OPTIONS;
        assert.deepEqual(entryFor(opts, after).entry, entryFor(opts, before).entry);
      }),
      { numRuns: RUNS },
    );
  });

  it('a higher count gives a new occurrence id', () => {
    fc.assert(
      fc.property(model, fc.integer({ min: 1, max: 20 }), (m, bump) => {
        const base = { ...m, series: null, count: m.count ?? 1 };
        const a = entryFor(DEFAULT_TRANSFORM_OPTIONS, asCore(base)).entry;
        const b = entryFor(DEFAULT_TRANSFORM_OPTIONS, asCore({ ...base, count: Math.max(base.count, 1) + bump })).entry;
        assert.notEqual(b.occurrenceId, a.occurrenceId);
      }),
      { numRuns: RUNS },
    );
  });

  it('text with a lone surrogate anywhere is rejected as binary', () => {
    const transformer = createTransformer(DEFAULT_TRANSFORM_OPTIONS, { now: () => NOW });
    fc.assert(
      fc.property(model, fc.constantFrom('reason' as const, 'message' as const, 'objectName' as const, 'host' as const), loneSurrogate, (m, field, bad) => {
        const result = transformer.normalize(asCore({ ...m, [field]: `x${bad}` }));
        assert.equal(result.ok ? 'ok' : result.reason, 'binary_text');
      }),
      { numRuns: RUNS },
    );
  });
});
