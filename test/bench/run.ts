/**
 * `npm run bench [-- [scenario…] [--quick] [--json | --markdown]]`: runs the benchmark scenarios
 * of issue 11 against the BUILT CLI (`npm run build` first) and prints every figure beside the
 * reference measured in the same run and its target. Targets are only printed (pass/FAIL), never
 * asserted: the exit code is non-zero only when a scenario could not run.
 *
 * Scenarios: startup (idle + start-up), micro (per-stage), burst, initial, calm, outage.
 * Progress goes to stderr; the table (or JSON, or Markdown for the README) to stdout.
 */
import { rmSync } from 'node:fs';
import { makeContext } from './lib/context.js';
import { machine, markdownTable, textTable, fmt, type Row } from './lib/report.js';
import { burst } from './scenarios/burst.js';
import { micro } from './scenarios/micro.js';
import { startup } from './scenarios/startup.js';
import type { BenchContext } from './lib/context.js';

const SCENARIOS: Record<string, (ctx: BenchContext) => Promise<void>> = {
  startup,
  burst,
  micro,
};

const USAGE = `usage: npm run bench -- [${Object.keys(SCENARIOS).join('|')} …] [--quick] [--json | --markdown]
  --quick     smaller sizes and shorter windows (a smoke run, ~1-2 min)
  --json      print the results as JSON
  --markdown  print the results as a Markdown table (for the README's performance section)
`;

const args = process.argv.slice(2);
const flags = new Set(args.filter((a) => a.startsWith('--')));
const names = args.filter((a) => !a.startsWith('--'));
for (const f of flags) {
  if (!['--quick', '--json', '--markdown', '--help'].includes(f)) {
    process.stderr.write(`unknown option ${f}\n${USAGE}`);
    process.exit(2);
  }
}
if (flags.has('--help')) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const unknown = names.filter((n) => !(n in SCENARIOS));
if (unknown.length > 0) {
  process.stderr.write(`unknown scenario ${unknown.join(', ')}\n${USAGE}`);
  process.exit(2);
}
const selected = names.length > 0 ? Object.keys(SCENARIOS).filter((n) => names.includes(n)) : Object.keys(SCENARIOS);

const rows: Row[] = [];
const failures: string[] = [];
const ctx = makeContext(
  flags.has('--quick'),
  (row) => {
    rows.push(row);
    const ref = row.reference ? ` (${row.reference.what}: ${fmt(row.reference)})` : '';
    const verdict = row.target ? ` [${row.target.text}: ${row.target.pass ? 'pass' : 'FAIL'}]` : '';
    process.stderr.write(`  ${row.scenario} · ${row.figure}: ${fmt(row.measured)}${ref}${verdict}\n`);
  },
  (line) => process.stderr.write(`  ${line}\n`),
);
const started = performance.now();
try {
  for (const name of selected) {
    process.stderr.write(`== ${name}${ctx.quick ? ' (quick)' : ''}\n`);
    const t0 = performance.now();
    try {
      await SCENARIOS[name]!(ctx);
    } catch (err) {
      failures.push(name);
      process.stderr.write(`!! scenario ${name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    }
    process.stderr.write(`   (${name}: ${((performance.now() - t0) / 1000).toFixed(0)} s)\n`);
  }
} finally {
  rmSync(ctx.tmp, { recursive: true, force: true });
}

const m = machine();
if (flags.has('--json')) {
  process.stdout.write(JSON.stringify({ machine: m, quick: ctx.quick, scenarios: selected, failed: failures, rows }, null, 2) + '\n');
} else if (flags.has('--markdown')) {
  process.stdout.write(markdownTable(rows, m));
} else {
  process.stdout.write(`\n${m.date} · ${m.nproc} × ${m.cpuModel} · Node ${m.node} · commit ${m.commit} · load ${m.loadAvg}\n\n`);
  process.stdout.write(textTable(rows));
}
process.stderr.write(`bench: ${selected.length} scenario(s) in ${((performance.now() - started) / 1000).toFixed(0)} s${failures.length ? `, FAILED to run: ${failures.join(', ')}` : ''}\n`);
process.exitCode = failures.length > 0 ? 1 : 0;
