/**
 * Before `replay` reads any input: is Loki there at all? With a wrong or dead URL the sink's
 * bounded retries (growing delays) would take minutes to fail, saying nothing meanwhile; one
 * `GET /ready` answers in at most `--loki-timeout`. Only an unreachable Loki stops the replay: a
 * Loki that answers /ready with another status (starting up, or a gateway without /ready) may
 * still take pushes, so that is a warning and the sink's retries decide.
 */
import type { LokiProbeResult } from '../../sink/loki/index.js';
import { EXIT_FAILURE } from '../exit-codes.js';
import type { CliIo } from '../program.js';

/** Resolves with an exit code when the replay must not start, else undefined. */
export async function lokiPreflight(url: string, io: CliIo, probe: () => Promise<LokiProbeResult>): Promise<number | undefined> {
  const result = await probe();
  if (result.kind === 'unreachable') {
    const detail = result.detail.split('\n')[0] ?? 'unreachable';
    io.stderr.write(`kube-event-shipper: cannot reach Loki at ${url} (--loki-url): ${detail}\n`);
    return EXIT_FAILURE;
  }
  if (result.kind === 'not_ready') {
    io.stderr.write(`kube-event-shipper: warning: Loki at ${url} answered /ready with ${result.statusCode}; replaying anyway\n`);
  }
  return undefined;
}
