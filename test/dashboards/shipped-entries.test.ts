import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createTransformer, DEFAULT_TRANSFORM_OPTIONS, type Transformer } from '../../src/transform/index.js';
import { corpusEvents, eventFixtureFiles } from '../support/corpus.js';
import { lokiLogfmt } from '../support/loki-logfmt.js';
import { FAILURES } from '../../dashboards/src/definitions.js';
import { LINE_KEYS, METADATA_KEYS, STREAM_LABELS } from './logql.js';

// What the dashboards and rules assume about entries, checked on what the real transform makes of
// every event in the fixture corpora (recorded from real API servers).
const NOW = Date.parse('2026-11-27T00:00:00Z');
const options = { ...DEFAULT_TRANSFORM_OPTIONS, staticLabels: { job: 'kube-event-shipper', cluster: 'prod-eu' } };
const transformers: [string, Transformer][] = [
  ['logfmt', createTransformer(options, { now: () => NOW })],
  ['json', createTransformer({ ...options, lineFormat: 'json' }, { now: () => NOW })],
];

function entries(): { format: string; line: string; labels: Record<string, string>; metadata: Record<string, string>; fields: Map<string, string> }[] {
  const out = [];
  for (const file of eventFixtureFiles().filter((f) => !f.endsWith('gone-410.json'))) {
    for (const { object } of corpusEvents(file)) {
      for (const [format, transformer] of transformers) {
        const result = transformer.normalize(object);
        if (!result.ok) continue;
        const entry = transformer.toEntry(result.event);
        const fields =
          format === 'logfmt'
            ? lokiLogfmt(entry.line).fields
            : new Map(Object.entries(JSON.parse(entry.line) as Record<string, unknown>).map(([k, v]) => [k, String(v)]));
        out.push({ format, line: entry.line, labels: { ...entry.labels }, metadata: { ...entry.structuredMetadata }, fields });
      }
    }
  }
  return out;
}

describe('entries the shipper writes, as the dashboards read them', () => {
  const all = entries();

  it('carry only the stream labels and metadata names the query check allows', () => {
    assert.ok(all.length > 500, `only ${String(all.length)} entries`);
    for (const { labels, metadata, fields } of all) {
      for (const name of Object.keys(labels)) assert.ok(STREAM_LABELS.includes(name), `stream label ${name}`);
      for (const name of Object.keys(metadata)) assert.ok(METADATA_KEYS.includes(name), `metadata ${name}`);
      for (const key of fields.keys()) assert.ok(LINE_KEYS.includes(key), `line key ${key}`);
    }
  });

  it('have a whole-number count and the event_uid in the line, so one event\'s history can be followed', () => {
    for (const { format, metadata, fields } of all) {
      assert.match(fields.get('count') ?? '', /^[1-9]\d*$/, `${format}: count`);
      assert.equal(fields.get('event_uid'), metadata['event_uid'], `${format}: the line's event_uid is the metadata's`);
      assert.ok((metadata['object_name'] ?? '') !== '', 'object_name metadata');
    }
  });

  it('carry occurrences as a whole number to unwrap, and level info or warn, as the panels, rules and annotation read them', () => {
    for (const { format, labels, metadata } of all) {
      assert.match(metadata['occurrences'] ?? '', /^(0|[1-9]\d*)$/, `${format}: occurrences`);
      const level = labels['type'] === 'Warning' ? 'warn' : labels['type'] === 'Normal' ? 'info' : undefined;
      if (level !== undefined) assert.equal(metadata['level'], level, `${format}: level of a ${labels['type'] ?? ''} event`);
    }
  });

  it('hold the object name in the line, so the drill-down\'s line filter keeps every entry its object_name match keeps', () => {
    for (const { format, line, metadata } of all) {
      const name = metadata['object_name'] ?? '';
      assert.ok(name !== '' && line.includes(name), `${format}: ${name} in ${line}`);
    }
  });

  it('put nodes under the _cluster namespace, as the node panels and rules expect', () => {
    const nodes = all.filter((e) => e.labels['kind'] === 'Node');
    assert.ok(nodes.length > 0);
    for (const node of nodes) assert.equal(node.labels['namespace'], '_cluster');
  });

  it('match every failure family the stat panels and rules select, by labels and line filter', () => {
    const matches = (labels: Record<string, string>, matcher: string): boolean => {
      const m = /^([a-z_]+)(=~|=)"(.*)"$/.exec(matcher);
      assert.ok(m, `matcher ${matcher}`);
      const [, name = '', op, value = ''] = m;
      return op === '=' ? labels[name] === value : new RegExp(`^(?:${value})$`).test(labels[name] ?? '');
    };
    const lineMatches = (line: string, filter: string): boolean => {
      if (filter === '') return true;
      const contains = /^\|= "(.*)"$/.exec(filter);
      if (contains) return line.includes(contains[1] ?? '');
      const regex = /^\|~ "(\(\?i\))?(.*)"$/.exec(filter);
      assert.ok(regex, `line filter ${filter}`);
      return new RegExp(regex[2] ?? '', regex[1] === undefined ? '' : 'i').test(line);
    };
    // The corpora come from a small real cluster where each of these failures happened.
    for (const [family, { matchers, line }] of Object.entries(FAILURES)) {
      const hits = all.filter((e) => e.format === 'logfmt' && matchers.every((m) => matches(e.labels, m)) && lineMatches(e.line, line));
      assert.ok(hits.length > 0, `an event in the corpora is a ${family}`);
    }
  });
});
