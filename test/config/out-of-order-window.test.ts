import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { shipperOptions } from '../../src/cli/commands/run.js';
import { loadConfig, type ConfigSources } from '../../src/config/load.js';
import { ConfigError } from '../../src/core/errors.js';

function sources(flags: Record<string, string>, env: Record<string, string> = {}, file?: string): ConfigSources {
  return {
    flags: file === undefined ? flags : { ...flags, config: '/etc/kes.yaml' },
    env,
    hostname: 'host-a',
    readFile: (path: string) => {
      if (file !== undefined && path === '/etc/kes.yaml') return file;
      throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
    },
  };
}

describe('--loki-out-of-order-window', () => {
  it('defaults to 1h (a stock Loki) and reaches the shipper', () => {
    const config = loadConfig(sources({}));
    assert.equal(config.lokiOutOfOrderWindow, 3_600_000);
    assert.equal(shipperOptions(config, 1000).outOfOrderWindowMs, 3_600_000);
  });

  it('is read from the flag, the KES_ env twin and the YAML key', () => {
    assert.equal(loadConfig(sources({ lokiOutOfOrderWindow: '2h' })).lokiOutOfOrderWindow, 7_200_000);
    assert.equal(loadConfig(sources({}, { KES_LOKI_OUT_OF_ORDER_WINDOW: '90m' })).lokiOutOfOrderWindow, 5_400_000);
    assert.equal(loadConfig(sources({}, {}, 'lokiOutOfOrderWindow: 30m\n')).lokiOutOfOrderWindow, 1_800_000);
  });

  it('refuses a window under a minute with a one-line reason naming the flag', () => {
    try {
      loadConfig(sources({ lokiOutOfOrderWindow: '30s' }));
      assert.fail('expected a ConfigError');
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /--loki-out-of-order-window/);
      assert.doesNotMatch(err.message, /\n/);
    }
  });
});
