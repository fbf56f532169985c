/**
 * `check`: the configuration, the API server and Loki, one verdict line per item (`check/`); exit 1
 * when any item FAILs. The Kubernetes client loads with this command, not with the program.
 */
import type { Config } from '../../config/index.js';
import { redactConfig } from '../../config/index.js';
import { probeLoki } from '../../sink/loki/index.js';
import { runChecks } from '../check/checks.js';
import { pushProbe } from '../check/push-probe.js';
import { formatVerdict } from '../check/verdict.js';
import { EXIT_FAILURE, EXIT_OK } from '../exit-codes.js';
import { loadKubeConfig } from '../kube.js';
import type { CliIo } from '../program.js';
import { createRuntime } from '../runtime.js';
import { lokiSinkOptions, transformOptions } from '../sink-options.js';
import { packageVersion } from '../version.js';

export async function checkCommand(config: Config, io: CliIo): Promise<number> {
  transformOptions(config);
  const rt = createRuntime(config, packageVersion());
  const verdicts = await runChecks(config, {
    loadKubeConfig: () => loadKubeConfig(config),
    probeLoki: () => probeLoki(lokiSinkOptions(config, config.lokiUrl ?? '')),
    timeoutMs: Math.min(config.lokiTimeout, 10_000),
    pushProbe: () => pushProbe(config, config.lokiUrl ?? '', { ...rt, logger: rt.logger }),
  });
  for (const verdict of verdicts) io.stdout.write(formatVerdict(verdict) + '\n');
  if (config.logLevel === 'debug' || config.logLevel === 'trace') {
    io.stderr.write(JSON.stringify(redactConfig(config)) + '\n');
  }
  return verdicts.some((v) => v.status === 'FAIL') ? EXIT_FAILURE : EXIT_OK;
}
