/** The real command handlers, wiring config to the pipeline modules. */
import type { Config } from '../config/index.js';
import { redactConfig } from '../config/index.js';
import { EXIT_FAILURE, EXIT_OK } from './exit-codes.js';
import { bundledDashboardsDir, writeDashboards } from './commands/dashboards.js';
import { formatVerdict, runChecks } from './commands/check.js';
import { loadKubeConfig } from './kube.js';
import { lokiDispatcher, lokiHeaders } from './loki-http.js';
import type { CliIo, CommandHandlers } from './program.js';
import { ShipperError } from '../core/errors.js';

async function check(config: Config, io: CliIo): Promise<number> {
  const dispatcher = lokiDispatcher(config);
  try {
    const verdicts = await runChecks(config, {
      loadKubeConfig: () => loadKubeConfig(config),
      lokiHeaders: lokiHeaders(config),
      lokiDispatcher: dispatcher,
      timeoutMs: Math.min(config.lokiTimeout, 10_000),
      pushProbe: () => Promise.resolve({ ok: false, detail: 'push probe not wired yet' }),
    });
    for (const verdict of verdicts) io.stdout.write(formatVerdict(verdict) + '\n');
    if (config.logLevel === 'debug' || config.logLevel === 'trace') {
      io.stderr.write(JSON.stringify(redactConfig(config)) + '\n');
    }
    return verdicts.some((v) => v.status === 'FAIL') ? EXIT_FAILURE : EXIT_OK;
  } finally {
    await dispatcher.close();
  }
}

async function dashboards(outDir: string, io: CliIo): Promise<number> {
  try {
    const written = await writeDashboards({ from: bundledDashboardsDir, to: outDir });
    for (const path of written) io.stdout.write(path + '\n');
    return EXIT_OK;
  } catch (err) {
    if (err instanceof ShipperError) {
      io.stderr.write(`kube-event-shipper: ${err.message}\n`);
      return EXIT_FAILURE;
    }
    throw err;
  }
}

export const handlers: CommandHandlers = {
  run: () => Promise.reject(new Error('run is not wired yet')),
  replay: () => Promise.reject(new Error('replay is not wired yet')),
  check,
  dashboards,
};
