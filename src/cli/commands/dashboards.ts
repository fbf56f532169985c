/** `dashboards [--out DIR]`: copies the bundled Grafana dashboards (the package's `dashboards/*.json`). */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ShipperError } from '../../core/errors.js';
import { EXIT_FAILURE, EXIT_OK } from '../exit-codes.js';
import type { CliIo } from '../program.js';
import { packageRoot } from '../version.js';

export const bundledDashboardsDir = resolve(packageRoot, 'dashboards');

/** The package has no dashboards to write (a broken install or build). */
export class NoDashboardsError extends ShipperError {
  readonly code = 'E_NO_DASHBOARDS';
}

/** A bundled file is not a Grafana dashboard (JSON object with a title and panels). */
export class InvalidDashboardError extends ShipperError {
  readonly code = 'E_INVALID_DASHBOARD';
}

export interface WriteDashboardsOptions {
  readonly from: string;
  readonly to: string;
}

/** Writes every `*.json` dashboard from `from` into `to` (created if missing); returns the paths written. */
export async function writeDashboards(options: WriteDashboardsOptions): Promise<string[]> {
  let names: string[];
  try {
    names = (await readdir(options.from)).filter((n) => n.endsWith('.json')).sort();
  } catch (err) {
    throw new NoDashboardsError(`no bundled dashboards: cannot read ${options.from}`, { cause: err });
  }
  if (names.length === 0) throw new NoDashboardsError(`no bundled dashboards: ${options.from} holds no .json file`);
  const dashboards: { name: string; text: string }[] = [];
  for (const name of names) {
    const text = await readFile(join(options.from, name), 'utf8');
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (err) {
      throw new InvalidDashboardError(`${name} is not valid JSON`, { cause: err });
    }
    if (typeof doc !== 'object' || doc === null || typeof (doc as { title?: unknown }).title !== 'string') {
      throw new InvalidDashboardError(`${name} is not a Grafana dashboard: expected a JSON object with a title`);
    }
    dashboards.push({ name, text });
  }
  await mkdir(options.to, { recursive: true });
  const written: string[] = [];
  for (const { name, text } of dashboards) {
    const target = join(options.to, name);
    await writeFile(target, text);
    written.push(target);
  }
  return written;
}

/** The `dashboards` command: writes them and prints each path; a broken package is one line and exit 1. */
export async function dashboardsCommand(outDir: string, io: CliIo): Promise<number> {
  try {
    const written = await writeDashboards({ from: bundledDashboardsDir, to: outDir });
    for (const path of written) io.stdout.write(path + '\n');
    return EXIT_OK;
  } catch (err) {
    if (err instanceof ShipperError) {
      io.stderr.write(`kube-event-shipper: ${err.message}\n`);
      return EXIT_FAILURE;
    }
    throw err;
  }
}
