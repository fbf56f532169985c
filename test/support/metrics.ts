/**
 * The one way tests read Prometheus metrics: parse the text format once (what the observe server
 * serves or the registry renders), then read a value by name and labels.
 */
import pino from 'pino';
import type { Registry } from 'prom-client';
import { systemClock } from '../../src/core/clock.js';
import { createHealthTracker } from '../../src/observe/health.js';
import { createMetrics } from '../../src/observe/metrics.js';
import { startObserveServer } from '../../src/observe/server.js';

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export type Labels = Readonly<Record<string, string>>;

/** A parsed exposition: its samples and the `# TYPE` of each metric family. */
export class MetricSamples {
  constructor(
    readonly samples: readonly Sample[],
    /** Family name → counter, gauge, histogram, summary or untyped. */
    readonly types: ReadonlyMap<string, string>,
  ) {}

  /**
   * Samples with this name whose labels include `labels`. Everywhere here `name` may also be a
   * selector with labels in Prometheus syntax, `name{reason="gone"}`, which adds to `labels`.
   */
  find(name: string, labels: Labels = {}): Sample[] {
    const selector = parseSelector(name);
    const wanted = Object.entries({ ...selector.labels, ...labels });
    return this.samples.filter((s) => s.name === selector.name && wanted.every(([k, v]) => s.labels[k] === v));
  }

  /** Whether a sample with this name and these labels exists. */
  has(name: string, labels: Labels = {}): boolean {
    return this.find(name, labels).length > 0;
  }

  /** The value of the one sample with this name whose labels include `labels`; throws if there is none or several. */
  value(name: string, labels: Labels = {}): number {
    const found = this.find(name, labels);
    if (found.length !== 1) throw new Error(`expected one sample ${name}${JSON.stringify(labels)}, found ${found.length}`);
    return (found[0] as Sample).value;
  }

  /** The sum over the samples with this name whose labels include `labels` (0 when there are none). */
  sum(name: string, labels: Labels = {}): number {
    return this.find(name, labels).reduce((sum, s) => sum + s.value, 0);
  }
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: \S+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

function parseLabels(body: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const pair of body.matchAll(LABEL)) {
    labels[pair[1] ?? ''] = (pair[2] ?? '').replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
  }
  return labels;
}

/** `name` or `name{label="value",…}` as a name and its labels. */
export function parseSelector(selector: string): { name: string; labels: Labels } {
  const match = /^([^{]+)(?:\{(.*)\})?$/.exec(selector);
  if (!match) throw new Error(`not a metric selector: ${selector}`);
  return { name: match[1] ?? '', labels: parseLabels(match[2] ?? '') };
}

/** Parses the Prometheus text exposition format; throws on a line that is neither a comment nor a sample. */
export function parseMetrics(text: string): MetricSamples {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      const type = /^# TYPE (\S+) (\S+)$/.exec(line);
      if (type) types.set(type[1] ?? '', type[2] ?? '');
      continue;
    }
    const match = SAMPLE.exec(line);
    if (!match) throw new Error(`not a Prometheus sample line: ${line}`);
    samples.push({ name: match[1] ?? '', labels: parseLabels(match[2] ?? ''), value: Number(match[3]) });
  }
  return new MetricSamples(samples, types);
}

/** Where metrics come from: a registry (or anything holding one, like `createMetrics()`), or a `/metrics` URL. */
export type MetricsSource = Registry | { readonly registry: Registry } | string;

/** Reads and parses the metrics now: renders the registry, or scrapes the URL over HTTP (expecting 200). */
export async function readMetrics(source: MetricsSource): Promise<MetricSamples> {
  if (typeof source === 'string') {
    const response = await fetch(source);
    const text = await response.text();
    if (response.status !== 200) throw new Error(`${source} answered ${String(response.status)}: ${text}`);
    return parseMetrics(text);
  }
  const registry = 'registry' in source ? source.registry : source;
  return parseMetrics(await registry.metrics());
}

/** The value of the one sample with this name whose labels include `labels`, read now. */
export async function metricValue(source: MetricsSource, name: string, labels: Labels = {}): Promise<number> {
  return (await readMetrics(source)).value(name, labels);
}

/**
 * Starts the shipper's observe server (as `run` does: `createMetrics` with process metrics) on
 * 127.0.0.1, scrapes `/metrics` the way Prometheus does, and returns the text.
 */
export async function scrapeShipperMetrics(): Promise<string> {
  const metrics = createMetrics({ version: 'test', processMetrics: true });
  const health = createHealthTracker({ stallTimeoutMs: 60_000, clock: systemClock });
  const server = await startObserveServer({ host: '127.0.0.1', port: 0 }, { registry: metrics.registry, health, logger: pino({ level: 'silent' }) });
  try {
    const response = await fetch(`${server.url}/metrics`);
    if (response.status !== 200) throw new Error(`/metrics answered ${String(response.status)}`);
    return await response.text();
  } finally {
    await server.close();
  }
}
