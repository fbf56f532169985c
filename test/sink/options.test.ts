import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/core/errors.js';
import { LOKI_SINK_DEFAULTS, resolveLokiSinkOptions } from '../../src/sink/loki/options.js';
import { parseRetryAfter } from '../../src/sink/loki/push-client.js';

const isConfigError = (err: unknown): boolean => err instanceof ConfigError && err.code === 'E_CONFIG';

describe('Loki sink options', () => {
  it('defaults fill what is not given', () => {
    const resolved = resolveLokiSinkOptions({ url: 'http://loki:3100' });
    assert.equal(resolved.batchMaxBytes, 1024 * 1024);
    assert.equal(resolved.batchMaxWaitMs, 1_000);
    assert.equal(resolved.minBackoffMs, 500);
    assert.equal(resolved.maxBackoffMs, 5_000);
    assert.equal(resolved.maxRetries, LOKI_SINK_DEFAULTS.maxRetries);
    assert.equal(resolved.structuredMetadata, true);
    assert.equal(resolved.pushUrl.href, 'http://loki:3100/loki/api/v1/push');
  });

  it('an undefined option keeps its default', () => {
    assert.equal(resolveLokiSinkOptions({ url: 'http://loki:3100', timeoutMs: undefined }).timeoutMs, 10_000);
  });

  it('maxRetries Infinity (retry for ever) is accepted', () => {
    assert.equal(resolveLokiSinkOptions({ url: 'http://loki:3100', maxRetries: Infinity }).maxRetries, Infinity);
  });

  const bad: [string, Parameters<typeof resolveLokiSinkOptions>[0]][] = [
    ['a URL that does not parse is refused', { url: 'loki:3100 x' }],
    ['a URL that is not http(s) is refused', { url: 'ftp://loki' }],
    ['credentials in the URL are refused', { url: 'http://u:p@loki' }],
    ['a zero batch size is refused', { url: 'http://loki', batchMaxBytes: 0 }],
    ['a negative retry count is refused', { url: 'http://loki', maxRetries: -1 }],
    ['a fractional retry count is refused', { url: 'http://loki', maxRetries: 1.5 }],
    ['a NaN retry count is refused', { url: 'http://loki', maxRetries: Number.NaN }],
    ['basic auth and a bearer token together are refused', { url: 'http://loki', bearerToken: 't', basicAuth: { username: 'u', password: 'p' } }],
  ];
  for (const [name, options] of bad) {
    it(name, () => assert.throws(() => resolveLokiSinkOptions(options), isConfigError));
  }
});

describe('parseRetryAfter', () => {
  it('reads delay-seconds', () => assert.equal(parseRetryAfter('7', 0), 7_000));
  it('reads an HTTP date relative to now', () => assert.equal(parseRetryAfter('Thu, 01 Jan 1970 00:00:30 GMT', 10_000), 20_000));
  it('ignores what it cannot read', () => assert.equal(parseRetryAfter('soon', 0), undefined));
  it('ignores an absent header', () => assert.equal(parseRetryAfter(undefined, 0), undefined));
});
