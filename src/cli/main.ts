#!/usr/bin/env node
import { probeLoki } from '../sink/loki/index.js';
import { withLokiPreflight } from './commands/replay-preflight.js';
import { handlers } from './handlers.js';
import { runCli } from './program.js';
import { lokiSinkOptions } from './sink-options.js';

const withPreflight = withLokiPreflight(handlers, (config, url) => probeLoki(lokiSinkOptions(config, url)));
const code = await runCli(process.argv, { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env }, withPreflight);
process.exitCode = code;
// Idle keep-alive sockets must not hold a finished command open.
setTimeout(() => process.exit(code), 200).unref();
