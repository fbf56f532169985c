import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeLogfmt, encodeLogfmtValue } from '../../src/transform/logfmt.js';
import { createTransformer, DEFAULT_TRANSFORM_OPTIONS } from '../../src/transform/index.js';
import { lineFields, cutMessage } from '../../src/transform/line.js';
import { allCorpusEvents } from '../support/corpus.js';
import { lokiLogfmt } from '../support/loki-logfmt.js';

const fields = (line: string): Record<string, string> => Object.fromEntries(lokiLogfmt(line).fields);

describe("the port of Loki's | logfmt parser", () => {
  it('reads bare, quoted and escaped values and drops keys without a value', () => {
    // Loki turns the non-ASCII key into a label name: ƒ becomes _.
    assert.deepEqual(fields('a=1 b="bar" ƒ=2h3s r="esc\\t" d x=sf'), { a: '1', b: 'bar', _: '2h3s', r: 'esc\t', x: 'sf' });
  });

  it('reads an escaped quote and backslash inside a quoted value', () => {
    assert.deepEqual(fields('foo="bar\\"baz" p="C:\\\\x"'), { foo: 'bar"baz', p: 'C:\\x' });
  });

  it('reads \\u escapes, surrogate pairs included', () => {
    assert.deepEqual(fields('a="\\u00e9\\ud83d\\ude80"'), { a: 'é🚀' });
  });

  it('flags an unterminated quoted value as an error', () => {
    const { fields: f, error } = lokiLogfmt('a=1 b="open');
    assert.equal(error, true);
    assert.deepEqual(Object.fromEntries(f), { a: '1' });
  });

  it('skips a bare value holding "=" and goes on with the next pair', () => {
    const { fields: f, error } = lokiLogfmt('a=b=c d=e');
    assert.equal(error, true);
    assert.deepEqual(Object.fromEntries(f), { d: 'e' });
  });

  it('drops a value holding U+FFFD, as Loki does', () => {
    assert.deepEqual(fields('a="x\uFFFDy" b=2'), { b: '2' });
  });

  it('keeps raw control characters inside a quoted value without escapes', () => {
    assert.deepEqual(fields('a="x\ny"'), { a: 'x\ny' });
  });

  it('turns a key with dots or dashes into a label name with underscores', () => {
    assert.deepEqual(fields('a.b-c=1 9x=2'), { a_b_c: '1', _9x: '2' });
  });
});

describe('logfmt encoding', () => {
  const cases: readonly [string, string, string][] = [
    ['a plain word stays bare', 'Scheduled', 'Scheduled'],
    ['a value with a space is quoted', 'a b', '"a b"'],
    ['an equals sign is quoted', 'key=value', '"key=value"'],
    ['a quote is escaped', 'say "hi"', '"say \\"hi\\""'],
    ['a backslash alone stays bare', 'C:\\path', 'C:\\path'],
    ['a backslash in a quoted value is escaped', 'C:\\a b', '"C:\\\\a b"'],
    ['newline, tab and carriage return are escaped', 'a\nb\tc\rd', '"a\\nb\\tc\\rd"'],
    ['other control characters become \\u escapes', 'bell\u0007esc\u001b', '"bell\\u0007esc\\u001b"'],
    ['unicode and emoji stay as they are', '构建开始🚀', '构建开始🚀'],
    ['an empty value is an empty quoted string', '', '""'],
  ];
  for (const [name, value, encoded] of cases) {
    it(name, () => {
      assert.equal(encodeLogfmtValue(value), encoded);
      if (value !== '') assert.equal(lokiLogfmt(`k=${encoded}`).fields.get('k'), value);
    });
  }

  it('numbers are written bare', () => {
    assert.equal(encodeLogfmt([['count', 12], ['msg', 'x y']]), 'count=12 msg="x y"');
  });
});

describe('every fixture line round-trips through Loki | logfmt', () => {
  it('each field of each fixture event reads back exactly', () => {
    const transformer = createTransformer(DEFAULT_TRANSFORM_OPTIONS, { now: () => Date.parse('2026-11-27T00:00:00Z') });
    let checked = 0;
    for (const { where, object } of allCorpusEvents()) {
      const result = transformer.normalize(object);
      assert.ok(result.ok, where);
      const entry = transformer.toEntry(result.event);
      const expected = Object.fromEntries(
        lineFields(result.event, cutMessage(result.event.message, DEFAULT_TRANSFORM_OPTIONS.maxMessageBytes), undefined).map(([k, v]) => [k, String(v)]),
      );
      const decoded = lokiLogfmt(entry.line);
      assert.equal(decoded.error, false, where);
      assert.deepEqual(Object.fromEntries(decoded.fields), expected, where);
      checked++;
    }
    assert.ok(checked > 2000, `only ${checked} events`);
  });
});
