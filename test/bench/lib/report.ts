/**
 * Results of a bench run: one row per figure, each with the reference measured in the same run
 * and its target. Printed as a text table, Markdown (for the README) or JSON.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';

export interface Figure {
  readonly value: number;
  readonly unit: string;
}

export interface Row {
  readonly scenario: string;
  readonly figure: string;
  readonly measured: Figure;
  /** What the same run measured for the reference (the floor, a bare node). */
  readonly reference?: Figure & { readonly what: string };
  /** The target as text (e.g. "≥ 0.6× floor"), and whether it is met. */
  readonly target?: { readonly text: string; readonly pass: boolean };
  readonly note?: string;
}

export interface Machine {
  readonly date: string;
  readonly nproc: number;
  readonly cpuModel: string;
  readonly node: string;
  readonly commit: string;
  readonly loadAvg: string;
}

export function machine(): Machine {
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    // not a git checkout
  }
  let load = '';
  try {
    load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  } catch {
    // not Linux
  }
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    nproc: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    node: process.version,
    commit,
    loadAvg: load,
  };
}

export function fmt(f: Figure): string {
  const v = f.value;
  if (!Number.isFinite(v)) return `n/a`;
  const digits = Math.abs(v) >= 1000 ? 0 : Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : Math.abs(v) >= 1 ? 2 : 3;
  const text = v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
  return f.unit === '×' ? `${text}×` : f.unit === '%' ? `${text} %` : `${text} ${f.unit}`;
}

function cells(r: Row): string[] {
  const ref = r.reference ? `${fmt(r.reference)} (${r.reference.what})` : '';
  const ratio = r.reference && r.reference.value > 0 && r.reference.unit === r.measured.unit ? `${(r.measured.value / r.reference.value).toFixed(2)}×` : '';
  const result = r.target ? (r.target.pass ? 'pass' : 'FAIL') : '';
  return [r.scenario, r.figure, fmt(r.measured), ref, ratio, r.target?.text ?? '', result, r.note ?? ''];
}

const HEADER = ['scenario', 'figure', 'measured', 'reference (same run)', 'ratio', 'target', 'result', 'note'];

export function textTable(rows: readonly Row[]): string {
  const table = [HEADER, ...rows.map(cells)];
  const widths = HEADER.map((_, i) => Math.min(60, Math.max(...table.map((r) => (r[i] ?? '').length))));
  return table.map((r) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n') + '\n';
}

export function markdownTable(rows: readonly Row[], m: Machine): string {
  const esc = (s: string): string => s.replace(/\|/g, '\\|');
  const lines = [
    `Measured ${m.date} on ${m.nproc} × ${m.cpuModel}, Node ${m.node}, commit ${m.commit} (load average at the end: ${m.loadAvg}).`,
    '',
    `| ${HEADER.join(' | ')} |`,
    `|${HEADER.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${cells(r).map(esc).join(' | ')} |`),
  ];
  return lines.join('\n') + '\n';
}

/** A target of the kind "measured ≤ limit" / "≥ limit". */
export function atMost(value: number, limit: number, text: string): { text: string; pass: boolean } {
  return { text, pass: value <= limit };
}
export function atLeast(value: number, limit: number, text: string): { text: string; pass: boolean } {
  return { text, pass: value >= limit };
}
