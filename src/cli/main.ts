#!/usr/bin/env node
import { enableCompileCache } from 'node:module';
import { setFlagsFromString } from 'node:v8';
import type { CommandHandlers } from './program.js';
import { runCli } from './program.js';

// The command's chunks (3 MB of bundled JS) compile from V8's code cache after the first start:
// ~20 % less start-up CPU. Where the temp directory is read-only (the image) it simply stays off.
try {
  enableCompileCache();
} catch {
  // An old Node or an unusable cache directory: start without it.
}

// undici parses HTTP with llhttp compiled to WebAssembly. V8 soon re-compiles its hot parser function
// with TurboFan on a worker thread, whose ~15 MB of compiler memory the allocator keeps for good:
// an idle `run` held 101 MiB RSS with it and 86 without, while the parser's own work (headers and
// chunk boundaries; bodies pass through as slices) stays a small part of a burst's CPU in Liftoff,
// V8's baseline WebAssembly compiler. Set before any module is compiled, so it applies to llhttp.
setFlagsFromString('--liftoff-only --no-wasm-tier-up --no-wasm-dynamic-tiering');

// Most of what start-up allocates lives on (modules, config, clients), and V8 takes that survival
// as a reason to double its young generation, which then stays: an idle `run` held 6.8 MB of new
// space for 2.7 MB in use. Start-up runs with the young generation at its initial size; a second
// later it may grow again (V8's default factor of 2), as a burst needs: idle RSS 80 -> 77 MiB.
// A growth factor given on the command line is left alone.
if (!process.execArgv.some((arg) => arg.startsWith('--semi-space-growth-factor'))) {
  setFlagsFromString('--semi-space-growth-factor=1');
  setTimeout(() => setFlagsFromString('--semi-space-growth-factor=2'), 1_000).unref();
}

/**
 * Each command's handler is in `commands/<name>.ts`. It (and all it imports: undici, pino,
 * prom-client, the Kubernetes client) loads only when that command runs, so `--version` and
 * `--help` start like a bare node, and the bundle (`build/bundle.ts`) splits a chunk per command.
 */
const handlers: CommandHandlers = {
  run: async (config, io) => (await import('./commands/run.js')).runCommand(config, io),
  replay: async (config, source, io) => (await import('./commands/replay.js')).replayCommand(config, source, io),
  check: async (config, io) => (await import('./commands/check.js')).checkCommand(config, io),
  dashboards: async (outDir, io) => (await import('./commands/dashboards.js')).dashboardsCommand(outDir, io),
};

const code = await runCli(process.argv, { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env }, handlers);
process.exitCode = code;
// Idle keep-alive sockets must not hold a finished command open.
setTimeout(() => process.exit(code), 200).unref();
