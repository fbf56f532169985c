#!/usr/bin/env node
import { handlers } from './handlers.js';
import { runCli } from './program.js';

const code = await runCli(process.argv, { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env }, handlers);
process.exitCode = code;
// Idle keep-alive sockets must not hold a finished command open.
setTimeout(() => process.exit(code), 200).unref();
