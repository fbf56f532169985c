import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { formatRfc3339Ns, parseRfc3339Ns } from '../../src/transform/index.js';

describe('RFC 3339 timestamps as bigint nanoseconds', () => {
  const valid: readonly [string, string, bigint][] = [
    ['whole seconds in UTC', '2026-11-26T10:47:37Z', 1795690057000000000n],
    ['microseconds are kept exactly', '2026-11-26T10:58:39.907656Z', 1795690719907656000n],
    ['nanoseconds are kept exactly', '2026-11-26T10:58:39.907656123Z', 1795690719907656123n],
    ['one fraction digit means tenths', '2026-11-26T10:58:39.9Z', 1795690719900000000n],
    ['a positive offset is moved to UTC', '2026-11-26T12:47:37.5+02:00', 1795690057500000000n],
    ['a negative offset is moved to UTC', '2026-11-26T05:17:37-05:30', 1795690057000000000n],
    ['lower-case t and z are accepted', '2026-11-26t10:47:37z', 1795690057000000000n],
    ['the epoch is zero', '1970-01-01T00:00:00Z', 0n],
    ['a time before the epoch is negative', '1969-12-31T23:59:59.999999999Z', -1n],
    ['29 February of a leap year exists', '2024-02-29T00:00:00Z', 1709164800000000000n],
    ['years before 100 are not mistaken for 19xx', '0050-01-01T00:00:00Z', -60589296000000000000n],
  ];
  for (const [name, text, ns] of valid) {
    it(name, () => assert.equal(parseRfc3339Ns(text), ns));
  }

  const invalid: readonly [string, string][] = [
    ['a time without a zone is refused', '2026-11-26T10:47:37'],
    ['a date alone is refused', '2026-11-26'],
    ['hour 24 is refused', '2026-11-26T24:00:00Z'],
    ['a leap second is refused, as Go refuses it', '2026-12-31T23:59:60Z'],
    ['30 February is refused', '2026-02-30T00:00:00Z'],
    ['29 February of a common year is refused', '2026-02-29T00:00:00Z'],
    ['ten fraction digits are refused', '2026-11-26T10:47:37.1234567890Z'],
    ['an empty fraction is refused', '2026-11-26T10:47:37.Z'],
    ['an offset of 24 hours is refused', '2026-11-26T10:47:37+24:00'],
    ['surrounding spaces are refused', ' 2026-11-26T10:47:37Z'],
  ];
  for (const [name, text] of invalid) {
    it(name, () => assert.equal(parseRfc3339Ns(text), undefined));
  }

  it('the canonical form is UTC with the fraction trimmed of trailing zeros', () => {
    assert.equal(formatRfc3339Ns(1795690719907656000n), '2026-11-26T10:58:39.907656Z');
    assert.equal(formatRfc3339Ns(1795690057000000000n), '2026-11-26T10:47:37Z');
    assert.equal(formatRfc3339Ns(1795690057500000000n), '2026-11-26T10:47:37.5Z');
    assert.equal(formatRfc3339Ns(-1n), '1969-12-31T23:59:59.999999999Z');
  });

  it('the calendar agrees with Date for every millisecond from year 1 to 9999', () => {
    fc.assert(
      fc.property(fc.integer({ min: Date.parse('0001-01-01T00:00:00Z'), max: Date.parse('9999-12-31T23:59:59.999Z') }), (ms) => {
        const iso = new Date(ms).toISOString().replace(/\.?0*Z$/, 'Z');
        assert.equal(formatRfc3339Ns(BigInt(ms) * 1_000_000n), iso);
        assert.equal(parseRfc3339Ns(new Date(ms).toISOString()), BigInt(ms) * 1_000_000n);
      }),
      { numRuns: 2000 },
    );
  });

  it('format then parse gives back every nanosecond from year 1 to 9999', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -62135596800000000000n, max: 253402300799999999999n }), (ns) => {
        assert.equal(parseRfc3339Ns(formatRfc3339Ns(ns)), ns);
      }),
      { numRuns: 2000 },
    );
  });

  it('a time parsed just before formats as from scratch, whatever form its text had', () => {
    /** Leaves neither cache holding anything near `ns`. */
    const flush = (): void => {
      for (const other of [1n, 2n]) {
        parseRfc3339Ns(formatRfc3339Ns(other));
        parseRfc3339Ns(formatRfc3339Ns(other));
      }
    };
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 253402300799999999999n }), fc.integer({ min: 0, max: 5 }), (ns, form) => {
        flush();
        const canonical = formatRfc3339Ns(ns);
        // A trailing zero only where the fraction has room for one (at most 9 digits).
        const pad = (zeros: string): string => (canonical.length + zeros.length <= 30 ? canonical.replace(/Z$/, `${zeros}Z`) : canonical);
        const variants = [
          canonical,
          canonical.replace('T', 't'),
          canonical.replace(/Z$/, 'z'),
          canonical.includes('.') ? pad('0') : canonical.replace(/Z$/, '.000Z'),
          canonical.replace(/Z$/, '+00:00'),
          canonical.includes('.') ? pad('00') : canonical.replace(/Z$/, '.0Z'),
        ];
        const text = variants[form] as string;
        flush();
        assert.equal(parseRfc3339Ns(text), ns, text);
        assert.equal(formatRfc3339Ns(ns), canonical, text);
      }),
      { numRuns: 3000 },
    );
  });
});
