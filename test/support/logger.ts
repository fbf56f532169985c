import { pino, type Level, type Logger } from 'pino';

/** A pino logger that keeps every record at `level` and above, parsed, for assertions on what was logged. */
export function capturingLogger(level: Level = 'debug'): { logger: Logger; records: Record<string, unknown>[] } {
  const records: Record<string, unknown>[] = [];
  const logger = pino({ level }, { write: (line: string) => records.push(JSON.parse(line) as Record<string, unknown>) });
  return { logger, records };
}
