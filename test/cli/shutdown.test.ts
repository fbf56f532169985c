import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { installShutdown } from '../../src/cli/shutdown.js';

const silent = pino({ level: 'silent' });

describe('installShutdown', () => {
  it('the first signal aborts; finishing in time exits nowhere', () => {
    const signals = new EventEmitter();
    const exits: number[] = [];
    const shutdown = installShutdown({ gracePeriodMs: 60_000, logger: silent, exit: (c) => exits.push(c), signals: signals });
    assert.equal(shutdown.signal.aborted, false);
    signals.emit('SIGTERM', 'SIGTERM');
    assert.equal(shutdown.signal.aborted, true);
    shutdown.dispose();
    assert.deepEqual(exits, []);
    assert.equal(signals.listenerCount('SIGTERM'), 0);
    assert.equal(signals.listenerCount('SIGINT'), 0);
  });

  it('a second signal exits at once with a failure code', () => {
    const signals = new EventEmitter();
    const exits: number[] = [];
    const shutdown = installShutdown({ gracePeriodMs: 60_000, logger: silent, exit: (c) => exits.push(c), signals: signals });
    signals.emit('SIGINT', 'SIGINT');
    signals.emit('SIGTERM', 'SIGTERM');
    assert.deepEqual(exits, [1]);
    shutdown.dispose();
  });

  it('running past the grace period exits with a failure code', async () => {
    const signals = new EventEmitter();
    const exited = new Promise<number>((resolve) => {
      const shutdown = installShutdown({ gracePeriodMs: 20, logger: silent, exit: resolve, signals: signals });
      signals.emit('SIGTERM', 'SIGTERM');
      void shutdown;
    });
    // The grace timer is unref'd; keep the loop alive while waiting for it.
    const keepAlive = setTimeout(() => undefined, 5000);
    assert.equal(await exited, 1);
    clearTimeout(keepAlive);
  });
});
