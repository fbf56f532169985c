import { pino, type DestinationStream, type Logger } from 'pino';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

export interface LoggerOptions {
  readonly level: LogLevel;
  readonly version: string;
  /** Where the JSON lines go; stderr by default, because stdout carries event lines without Loki. */
  readonly destination?: DestinationStream;
}

/** Belt and braces: these paths are censored even if a caller logs a config or a request by mistake. */
const REDACT_PATHS = [
  'lokiPassword',
  'lokiBearerToken',
  '*.lokiPassword',
  '*.lokiBearerToken',
  'headers.authorization',
  'headers.Authorization',
  '*.headers.authorization',
  '*.headers.Authorization',
];

/** JSON logs with constant messages; context goes in fields, errors in `err`. */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: { name: 'kube-event-shipper', version: options.version, pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: '<redacted>' },
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination ?? pino.destination({ fd: 2, sync: true }),
  );
}
