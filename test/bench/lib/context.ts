/**
 * What every scenario needs: the built CLI, a scratch directory, the settings the Deployment
 * ships (read from deploy/base/deployment.yaml, so the bench follows it when it changes), and the
 * quick/full sizes.
 */
import { existsSync, mkdtempSync, readFileSync, realpathSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import type { Row } from './report.js';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const cliPath = join(repoRoot, 'dist', 'cli', 'main.js');

export interface DeploySettings {
  /** NODE_OPTIONS of the shipper container. */
  readonly nodeOptions: string;
  /** resources.limits.memory in MiB. */
  readonly memoryLimitMb: number;
}

export interface BenchContext {
  readonly quick: boolean;
  readonly tmp: string;
  readonly deploy: DeploySettings;
  /** Rows are printed as soon as a scenario reports them (progress for a long run). */
  report(row: Row): void;
  log(line: string): void;
}

function memoryMb(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|K|M|G)?$/.exec(text.trim());
  if (!m) throw new Error(`cannot read memory quantity ${text}`);
  const n = Number(m[1]);
  const factor: Record<string, number> = { Ki: 1 / 1024, Mi: 1, Gi: 1024, K: 1e3 / 1048576, M: 1e6 / 1048576, G: 1e9 / 1048576 };
  return m[2] ? n * (factor[m[2]] ?? NaN) : n / 1048576;
}

interface Container {
  name?: string;
  env?: { name?: string; value?: string }[];
  resources?: { limits?: { memory?: string } };
}

export function deploySettings(): DeploySettings {
  const doc = parse(readFileSync(join(repoRoot, 'deploy', 'base', 'deployment.yaml'), 'utf8')) as { spec?: { template?: { spec?: { containers?: Container[] } } } };
  const container = doc.spec?.template?.spec?.containers?.find((c) => c.name === 'shipper') ?? doc.spec?.template?.spec?.containers?.[0];
  const nodeOptions = container?.env?.find((e) => e.name === 'NODE_OPTIONS')?.value ?? '';
  const limit = container?.resources?.limits?.memory;
  return { nodeOptions, memoryLimitMb: limit ? memoryMb(limit) : Number.POSITIVE_INFINITY };
}

export function makeContext(quick: boolean, onRow: (row: Row) => void, log: (line: string) => void): BenchContext {
  if (!existsSync(cliPath)) throw new Error(`${cliPath} is missing: run \`npm run build\` first`);
  return { quick, tmp: mkdtempSync(join(tmpdir(), 'kes-bench-')), deploy: deploySettings(), report: onRow, log };
}

/** Throws unless `pid` runs this very Node binary (not npm, a shell or another launcher). */
export function assertIsNode(pid: number): void {
  const exe = readlinkSync(`/proc/${pid}/exe`);
  if (exe !== realpathSync(process.execPath)) throw new Error(`pid ${pid} runs ${exe}, not ${process.execPath}`);
}
