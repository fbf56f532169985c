/**
 * A child process measured by the OS: spawned directly with this Node binary (so `pid` is node
 * itself, not npm or a shell), its CPU time (utime + stime) and memory (VmRSS, VmHWM) read from
 * /proc while it is alive. Scenarios read a snapshot at the moment that counts (every event
 * received, the watch open) — before the process exits, so nothing is lost to reaping.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat; 100 on every Linux this runs on. */
const CLK_TCK = 100;
const MiB = 1024 * 1024;

export interface ProcSnapshot {
  /** User + system CPU seconds so far. */
  readonly cpuS: number;
  readonly rssMb: number;
  /** Peak RSS so far (VmHWM). */
  readonly peakRssMb: number;
  /** Seconds since spawn. */
  readonly wallS: number;
}

/** Reads /proc/<pid>; undefined once the process is gone. */
export function readProc(pid: number): Omit<ProcSnapshot, 'wallS'> | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    // An exited process not yet reaped (a zombie) has no memory lines left: nothing to measure.
    if (Number.isNaN(kb('VmRSS'))) return undefined;
    return { cpuS: (utime + stime) / CLK_TCK, rssMb: (kb('VmRSS') * 1024) / MiB, peakRssMb: (kb('VmHWM') * 1024) / MiB };
  } catch {
    return undefined;
  }
}

export interface MeasuredChildOptions {
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  /** Sample RSS this often (ms) to keep the largest VmRSS seen and a time series. 0: no sampling. */
  readonly sampleMs?: number;
  /** Keep stdout (default: ignored). */
  readonly captureStdout?: boolean;
}

export class MeasuredChild {
  readonly process: ChildProcess;
  readonly startedAt: number;
  stdout = '';
  stderr = '';
  /** Largest VmRSS sampled (MB). */
  maxSampledRssMb = 0;
  readonly rssSeries: { readonly tS: number; readonly rssMb: number }[] = [];
  private readonly sampler: NodeJS.Timeout | undefined;
  private exited: Promise<number | null>;
  private last: ProcSnapshot | undefined;

  constructor(options: MeasuredChildOptions) {
    this.startedAt = performance.now();
    this.process = spawn(process.execPath, [...options.args], {
      env: options.env ?? process.env,
      stdio: ['ignore', options.captureStdout ? 'pipe' : 'ignore', 'pipe'],
    });
    this.process.stdout?.setEncoding('utf8').on('data', (d: string) => (this.stdout += d));
    // Keep only the tail of stderr: enough to explain a failure.
    this.process.stderr?.setEncoding('utf8').on('data', (d: string) => (this.stderr = (this.stderr + d).slice(-20_000)));
    const sampleMs = options.sampleMs ?? 0;
    if (sampleMs > 0) {
      this.sampler = setInterval(() => this.sample(), sampleMs);
      this.sampler.unref();
    }
    this.exited = new Promise((resolve) =>
      this.process.once('exit', (code) => {
        if (this.sampler) clearInterval(this.sampler);
        resolve(code);
      }),
    );
  }

  get pid(): number {
    const pid = this.process.pid;
    if (pid === undefined) throw new Error(`child did not start: ${this.stderr}`);
    return pid;
  }

  private sample(): void {
    const s = this.snapshot();
    if (s) this.rssSeries.push({ tS: s.wallS, rssMb: s.rssMb });
  }

  /** CPU, memory and wall time now; the last one read if the process has gone. */
  snapshot(): ProcSnapshot | undefined {
    const pid = this.process.pid;
    const p = pid === undefined || this.process.exitCode !== null ? undefined : readProc(pid);
    if (p) {
      this.last = { ...p, wallS: (performance.now() - this.startedAt) / 1000 };
      this.maxSampledRssMb = Math.max(this.maxSampledRssMb, p.rssMb);
    }
    return this.last;
  }

  /** A snapshot that must exist (the process is alive). */
  measure(): ProcSnapshot {
    const s = this.snapshot();
    if (!s) throw new Error(`process ${this.process.pid ?? '?'} is gone; stderr tail:\n${this.stderr.slice(-2000)}`);
    return s;
  }

  get exitCode(): Promise<number | null> {
    return this.exited;
  }

  /** Resolves when the process exits or `ms` pass (then undefined). */
  async waitExit(ms: number): Promise<number | null | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs = 5_000): Promise<void> {
    if (this.sampler) clearInterval(this.sampler);
    if (this.process.exitCode !== null || this.process.signalCode !== null) return;
    this.process.kill('SIGTERM');
    if ((await this.waitExit(graceMs)) === undefined) {
      this.process.kill('SIGKILL');
      await this.exited;
    }
  }
}

/** Polls `check` every `everyMs` until it returns true; throws after `timeoutMs` with `what`. */
export async function waitUntil(check: () => boolean, timeoutMs: number, what: string, everyMs = 10): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
