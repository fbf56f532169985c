/**
 * Spawning what the scenarios measure: the built CLI (`run`, `replay`, `--version`), and the
 * references run the same way — the floor (one Node process reading the file and JSON.parse-ing
 * each line) and a bare Node.
 */
import { join } from 'node:path';
import { assertIsNode, cliPath, type BenchContext } from './context.js';
import { MeasuredChild, sleep, waitUntil, type ProcSnapshot } from './child.js';

let runs = 0;

/**
 * The environment of every child: this one's, without NODE_OPTIONS unless a scenario sets it, and
 * without NODE_EXTRA_CA_CERTS (a machine-wide CA bundle there makes Node load it in the background
 * as soon as TLS loads; a shipper in its image has none, and its kubeconfig carries its CA).
 */
export function childEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env['NODE_OPTIONS'];
  delete env['NODE_EXTRA_CA_CERTS'];
  return { ...env, ...extra };
}

export function spawnNode(args: readonly string[], options: { env?: NodeJS.ProcessEnv; sampleMs?: number; captureStdout?: boolean } = {}): MeasuredChild {
  const child = new MeasuredChild({ args, env: options.env ?? childEnv(), sampleMs: options.sampleMs ?? 0, captureStdout: options.captureStdout ?? false });
  assertIsNode(child.pid);
  return child;
}

/** `run` against a kubeconfig and a Loki URL, with a fresh checkpoint file (a first start) and no fixed port. */
export function spawnRun(ctx: BenchContext, kubeconfig: string, lokiUrl: string, extra: readonly string[] = [], env?: NodeJS.ProcessEnv, sampleMs = 0): MeasuredChild {
  runs += 1;
  const args = [
    cliPath, 'run',
    '--kubeconfig', kubeconfig,
    '--loki-url', lokiUrl,
    '--checkpoint-file', join(ctx.tmp, `checkpoint-${process.pid}-${runs}.json`),
    '--listen', '127.0.0.1:0',
    '--log-level', 'warn',
    ...extra,
  ];
  return spawnNode(args, { ...(env ? { env } : {}), sampleMs });
}

export function spawnReplay(file: string, lokiUrl: string, env?: NodeJS.ProcessEnv): MeasuredChild {
  return spawnNode([cliPath, 'replay', file, '--loki-url', lokiUrl, '--log-level', 'warn'], env ? { env } : {});
}

/** The floor: read the file line by line and JSON.parse each line, then say so and wait to be measured. */
const FLOOR = `
const rl = require('node:readline');
const fs = require('node:fs');
(async () => {
  let n = 0;
  for await (const line of rl.createInterface({ input: fs.createReadStream(process.argv[1]), crlfDelay: Infinity })) {
    if (line !== '') { JSON.parse(line); n++; }
  }
  process.stdout.write('done ' + n + '\\n');
  setInterval(() => {}, 1000);
})();`;

export interface FloorResult extends ProcSnapshot {
  readonly eventsPerS: number;
}

async function floorOnce(file: string, events: number): Promise<FloorResult> {
  const child = spawnNode(['-e', FLOOR, file], { captureStdout: true });
  try {
    await waitUntil(() => child.stdout.includes('done'), 300_000, 'the floor to read the file', 2);
    const snap = child.measure();
    const n = Number(/done (\d+)/.exec(child.stdout)?.[1]);
    if (n !== events) throw new Error(`floor read ${n} events, expected ${events}`);
    return { ...snap, eventsPerS: events / snap.wallS };
  } finally {
    await child.stop();
  }
}

/** Best of `trials` floor runs (other processes on the machine only ever slow one down). */
export async function measureFloor(file: string, events: number, trials = 2): Promise<FloorResult> {
  let best: FloorResult | undefined;
  for (let t = 0; t < trials; t++) {
    const r = await floorOnce(file, events);
    if (!best || r.wallS < best.wallS) best = { ...r, cpuS: Math.min(r.cpuS, best?.cpuS ?? Infinity) };
  }
  return best!;
}

/** RSS of a bare idle Node (`node -e` with a timer), after `settleMs`. */
export async function bareNodeRss(settleMs = 1_000): Promise<ProcSnapshot> {
  const child = spawnNode(['-e', 'setInterval(() => {}, 1000)']);
  try {
    await sleep(settleMs);
    return child.measure();
  } finally {
    await child.stop();
  }
}

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
