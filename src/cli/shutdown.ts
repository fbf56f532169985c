/**
 * SIGTERM/SIGINT handling: the first signal aborts the returned signal (stop watching, flush,
 * checkpoint, release the lease) and starts the grace timer; when the grace period is over, or on a
 * second signal, the process exits at once.
 */
import type { Logger } from 'pino';
import { EXIT_FAILURE } from './exit-codes.js';

export interface SignalSource {
  on(event: 'SIGTERM' | 'SIGINT', listener: (signal: NodeJS.Signals) => void): unknown;
  off(event: 'SIGTERM' | 'SIGINT', listener: (signal: NodeJS.Signals) => void): unknown;
}

export interface ShutdownOptions {
  readonly gracePeriodMs: number;
  readonly logger: Logger;
  /** Ends the process right away (`process.exit`), for the grace timer and the second signal. */
  readonly exit: (code: number) => void;
  readonly signals?: SignalSource;
}

export interface Shutdown {
  /** Aborted on the first signal. */
  readonly signal: AbortSignal;
  /** Removes the handlers and the grace timer once the work has finished. */
  dispose(): void;
}

export function installShutdown(options: ShutdownOptions): Shutdown {
  const signals = options.signals ?? process;
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;

  const onSignal = (signal: NodeJS.Signals): void => {
    if (controller.signal.aborted) {
      options.logger.warn({ signal }, 'second signal, exiting now');
      options.exit(EXIT_FAILURE);
      return;
    }
    options.logger.info({ signal, gracePeriodMs: options.gracePeriodMs }, 'shutting down');
    controller.abort(new Error(`received ${signal}`));
    timer = setTimeout(() => {
      options.logger.error({ gracePeriodMs: options.gracePeriodMs }, 'grace period over, exiting');
      options.exit(EXIT_FAILURE);
    }, options.gracePeriodMs);
    timer.unref();
  };
  signals.on('SIGTERM', onSignal);
  signals.on('SIGINT', onSignal);

  return {
    signal: controller.signal,
    dispose() {
      if (timer) clearTimeout(timer);
      signals.off('SIGTERM', onSignal);
      signals.off('SIGINT', onSignal);
    },
  };
}
