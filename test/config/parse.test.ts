import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  parseBoolean,
  parseByteSize,
  parseDuration,
  parseInitial,
  parseKeyValues,
  parseList,
  parseListenAddress,
  parseNamespacedName,
  ValueError,
} from '../../src/config/parse.js';

describe('config value parsers', () => {
  it('durations take ms, s, m, h, d and combinations', () => {
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('30s'), 30_000);
    assert.equal(parseDuration('5m'), 300_000);
    assert.equal(parseDuration('2h'), 7_200_000);
    assert.equal(parseDuration('6d'), 518_400_000);
    assert.equal(parseDuration('1h30m'), 5_400_000);
    assert.equal(parseDuration('1.5s'), 1500);
  });

  it('a duration without a unit or with an unknown one is refused', () => {
    for (const bad of ['30', '5 minutes', '', '-1s', 's', '10y']) assert.throws(() => parseDuration(bad), ValueError, bad);
  });

  it('byte sizes take plain numbers and SI or binary units', () => {
    assert.equal(parseByteSize('1048576'), 1_048_576);
    assert.equal(parseByteSize('1MiB'), 1_048_576);
    assert.equal(parseByteSize('512KiB'), 524_288);
    assert.equal(parseByteSize('10MB'), 10_000_000);
    assert.equal(parseByteSize('1gib'), 1024 ** 3);
    assert.throws(() => parseByteSize('1 lot'), ValueError);
    assert.throws(() => parseByteSize('-5'), ValueError);
  });

  it('booleans accept true/false and the usual synonyms only', () => {
    assert.equal(parseBoolean('true'), true);
    assert.equal(parseBoolean('OFF'), false);
    assert.throws(() => parseBoolean('maybe'), ValueError);
  });

  it('lists drop blanks, and maps split on the first equals sign', () => {
    assert.deepEqual(parseList(' a, b,,c '), ['a', 'b', 'c']);
    assert.deepEqual(parseList(''), []);
    assert.deepEqual(parseKeyValues('cluster=prod, x=a=b'), { cluster: 'prod', x: 'a=b' });
    assert.throws(() => parseKeyValues('novalue'), ValueError);
    assert.throws(() => parseKeyValues('a=1,a=2'), ValueError);
  });

  it('NAMESPACE/NAME follows Kubernetes naming', () => {
    assert.deepEqual(parseNamespacedName('monitoring/kes-lease'), { namespace: 'monitoring', name: 'kes-lease' });
    for (const bad of ['kes', 'a/b/c', 'Mon/x', '/x', 'x/']) assert.throws(() => parseNamespacedName(bad), ValueError, bad);
  });

  it('initial is none, all or an age', () => {
    assert.deepEqual(parseInitial('none'), { kind: 'none' });
    assert.deepEqual(parseInitial('all'), { kind: 'all' });
    assert.deepEqual(parseInitial('2h'), { kind: 'maxAge', maxAgeMs: 7_200_000 });
    assert.throws(() => parseInitial('some'), /none, all, or a maximum age/);
  });

  it('listen addresses take :PORT, HOST:PORT and [IPv6]:PORT', () => {
    assert.deepEqual(parseListenAddress(':8080'), { host: '', port: 8080 });
    assert.deepEqual(parseListenAddress('127.0.0.1:0'), { host: '127.0.0.1', port: 0 });
    assert.deepEqual(parseListenAddress('[::1]:9000'), { host: '::1', port: 9000 });
    assert.throws(() => parseListenAddress('8080'), ValueError);
    assert.throws(() => parseListenAddress(':99999'), ValueError);
  });
});
