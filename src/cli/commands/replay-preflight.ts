/**
 * Before `replay` reads any input: is Loki there at all? With a wrong or dead URL the sink's
 * bounded retries (growing delays) would take minutes to fail, saying nothing meanwhile; one
 * `GET /ready` answers in at most `--loki-timeout`. Only an unreachable Loki stops the replay: a
 * Loki that answers /ready with another status (starting up, or a gateway without /ready) may
 * still take pushes, so that is a warning and the sink's retries decide.
 */
import type { Config } from '../../config/index.js';
import type { LokiProbeResult } from '../../sink/loki/index.js';
import { EXIT_FAILURE } from '../exit-codes.js';
import type { CliIo, CommandHandlers } from '../program.js';
import { transformOptions } from '../sink-options.js';

export type ProbeLoki = (config: Config, url: string) => Promise<LokiProbeResult>;

/** The same handlers, with `replay` preceded by a Loki `/ready` probe when there is a `--loki-url`. */
export function withLokiPreflight(handlers: CommandHandlers, probe: ProbeLoki): CommandHandlers {
  const replay = async (config: Config, source: string, io: CliIo): Promise<number> => {
    const url = config.lokiUrl;
    if (url === undefined) return handlers.replay(config, source, io);
    // A bad label set is a usage error (exit 2) whether or not Loki is up: report it first.
    transformOptions(config);
    const result = await probe(config, url);
    if (result.kind === 'unreachable') {
      const detail = result.detail.split('\n')[0] ?? 'unreachable';
      io.stderr.write(`kube-event-shipper: cannot reach Loki at ${url} (--loki-url): ${detail}\n`);
      return EXIT_FAILURE;
    }
    if (result.kind === 'not_ready') {
      io.stderr.write(`kube-event-shipper: warning: Loki at ${url} answered /ready with ${result.statusCode}; replaying anyway\n`);
    }
    return handlers.replay(config, source, io);
  };
  return { ...handlers, replay };
}
