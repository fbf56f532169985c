/** Spawns the built binary (`dist/cli/main.js`, current because `npm test` builds first). */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './fixtures.js';

export const binary = join(repoRoot, 'dist', 'cli', 'main.js');

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface Spawned {
  readonly child: ChildProcess;
  readonly result: Promise<CliResult>;
  /** Resolves once stderr or stdout has matched. */
  waitFor(stream: 'stdout' | 'stderr', pattern: RegExp, timeoutMs?: number): Promise<void>;
  output(): { stdout: string; stderr: string };
}

/** A clean environment: no KES_* from the developer's shell, no kubeconfig of theirs. */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const home = mkdtempSync(join(tmpdir(), 'kes-home-'));
  return { PATH: process.env['PATH'] ?? '', HOME: home, KUBECONFIG: join(home, 'no-kubeconfig'), ...extra };
}

export function startCli(args: readonly string[], options: { env?: Record<string, string>; stdin?: string; cwd?: string } = {}): Spawned {
  const child = spawn(process.execPath, [binary, ...args], {
    env: options.env ?? cleanEnv(),
    cwd: options.cwd ?? repoRoot,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const listeners: (() => void)[] = [];
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    for (const l of listeners) l();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    for (const l of listeners) l();
  });
  if (options.stdin !== undefined) child.stdin?.end(options.stdin);
  const result = new Promise<CliResult>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return {
    child,
    result,
    output: () => ({ stdout, stderr }),
    // The default is a ceiling for a process starting on a busy machine (several test files run at once).
    waitFor(stream, pattern, timeoutMs = 30_000) {
      return new Promise<void>((resolve, reject) => {
        const check = (): void => {
          if (pattern.test(stream === 'stdout' ? stdout : stderr)) {
            clearTimeout(timer);
            resolve();
          }
        };
        const timer = setTimeout(() => {
          child.kill('SIGKILL');
          reject(new Error(`timed out waiting for ${String(pattern)} on ${stream}; stderr: ${stderr.slice(-2000)}`));
        }, timeoutMs);
        listeners.push(check);
        check();
      });
    },
  };
}

/** Runs the binary to completion, killing it if it takes longer than `timeoutMs`. */
export async function runCliToEnd(args: readonly string[], options: { env?: Record<string, string>; stdin?: string; cwd?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  const spawned = startCli(args, { ...options, stdin: options.stdin ?? '' });
  const timer = setTimeout(() => spawned.child.kill('SIGKILL'), options.timeoutMs ?? 20_000);
  try {
    return await spawned.result;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs the binary to completion in a clean environment (plus `env`); with `file`, writes it as
 * `config.yaml` in the temporary HOME and appends `--config <path>` to the arguments.
 */
export async function runWithConfigFile(c: { readonly args: readonly string[]; readonly env?: Record<string, string>; readonly file?: string }): Promise<CliResult> {
  const env = cleanEnv(c.env);
  const args = [...c.args];
  if (c.file !== undefined) {
    const path = join(env['HOME'] ?? '', 'config.yaml');
    writeFileSync(path, c.file);
    args.push('--config', path);
  }
  return runCliToEnd(args, { env });
}

/** The port the spawned shipper's observe server listens on (from its start-up log line). */
export async function observePort(spawned: Spawned): Promise<number> {
  await spawned.waitFor('stderr', /"msg":"observe server listening"/);
  const line = spawned
    .output()
    .stderr.split('\n')
    .find((l) => l.includes('"msg":"observe server listening"'));
  const port = (JSON.parse(line ?? '{}') as { port?: unknown }).port;
  if (typeof port !== 'number') throw new Error(`no port in ${line}`);
  return port;
}
