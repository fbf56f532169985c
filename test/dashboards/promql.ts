/**
 * Reads the metric and label names out of a PromQL expression (a tokenizer, not a full parser: we
 * have no PromQL grammar in the dependencies) and checks them against a real `/metrics` scrape.
 */
import { parseMetrics } from '../support/metrics.js';

export interface Scrape {
  /** Every sample name the exposition declares (histograms: `_bucket`, `_sum`, `_count`). */
  readonly names: ReadonlySet<string>;
  /** Label names seen on the samples of each name; a name with no sample yet is absent. */
  readonly labels: ReadonlyMap<string, ReadonlySet<string>>;
}

/** What a scrape declares, from the shared parser: every name a family's `# TYPE` implies, and each sample's label names. */
export function parseExposition(text: string): Scrape {
  const parsed = parseMetrics(text);
  const names = new Set<string>();
  const labels = new Map<string, Set<string>>();
  for (const [name, kind] of parsed.types) {
    const samples = kind === 'histogram' ? ['_bucket', '_sum', '_count'].map((s) => name + s) : kind === 'summary' ? [name, `${name}_sum`, `${name}_count`] : [name];
    for (const s of samples) names.add(s);
  }
  for (const sample of parsed.samples) {
    names.add(sample.name);
    const set = labels.get(sample.name) ?? new Set<string>();
    for (const label of Object.keys(sample.labels)) set.add(label);
    labels.set(sample.name, set);
  }
  return { names, labels };
}

/** Labels Prometheus or a relabelling adds to every target; dashboards may filter on them. */
export const TARGET_LABELS = ['job', 'instance', 'namespace', 'pod', 'service', 'container', 'endpoint', 'cluster'] as const;

const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset', 'inf', 'nan']);
const AGGREGATIONS = new Set(['sum', 'min', 'max', 'avg', 'group', 'stddev', 'stdvar', 'count', 'count_values', 'bottomk', 'topk', 'quantile', 'limitk', 'limit_ratio']);
const GROUPING = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);

interface Token {
  readonly kind: 'ident' | 'string' | 'number' | 'punct' | 'duration';
  readonly text: string;
}

function tokenize(expr: string): Token[] {
  const tokens: Token[] = [];
  const re = /\s+|("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)|(\[[^\]]*\])|([a-zA-Z_:][a-zA-Z0-9_:]*)|(\d+(?:\.\d+)?(?:e[+-]?\d+)?)|(=~|!~|!=|==|>=|<=|[-+*/%^<>=,(){}])/gy;
  let match: RegExpExecArray | null;
  while (re.lastIndex < expr.length && (match = re.exec(expr)) !== null) {
    if (match[1] !== undefined) tokens.push({ kind: 'string', text: match[1] });
    else if (match[2] !== undefined) tokens.push({ kind: 'duration', text: match[2] });
    else if (match[3] !== undefined) tokens.push({ kind: 'ident', text: match[3] });
    else if (match[4] !== undefined) tokens.push({ kind: 'number', text: match[4] });
    else if (match[5] !== undefined) tokens.push({ kind: 'punct', text: match[5] });
  }
  if (re.lastIndex < expr.length) throw new Error(`cannot read PromQL at ${String(re.lastIndex)}: ${expr.slice(re.lastIndex)}`);
  return tokens;
}

export interface PromqlNames {
  readonly metrics: string[];
  /** Label names in matchers, per metric. */
  readonly matcherLabels: Map<string, string[]>;
  /** Label names in by/without/on/ignoring/group_* clauses. */
  readonly groupingLabels: string[];
}

export function promqlNames(expr: string): PromqlNames {
  const tokens = tokenize(expr);
  const metrics: string[] = [];
  const matcherLabels = new Map<string, string[]>();
  const groupingLabels: string[] = [];
  let balance = 0;
  for (const t of tokens) balance += t.text === '(' ? 1 : t.text === ')' ? -1 : 0;
  if (balance !== 0) throw new Error(`unbalanced parentheses in ${expr}`);
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] as Token;
    const next = tokens[i + 1];
    if (token.kind !== 'ident') continue;
    if (GROUPING.has(token.text)) {
      if (next?.text === '(') {
        let j = i + 2;
        for (; j < tokens.length && tokens[j]?.text !== ')'; j++) if (tokens[j]?.kind === 'ident') groupingLabels.push(tokens[j]?.text ?? '');
        i = j;
      }
      continue;
    }
    if (KEYWORDS.has(token.text.toLowerCase())) continue;
    if (next?.text === '(') continue; // a function or aggregation
    if (AGGREGATIONS.has(token.text) && (next?.text === 'by' || next?.text === 'without')) continue; // `sum by (…) (…)`
    metrics.push(token.text);
    if (next?.text === '{') {
      const names: string[] = [];
      let j = i + 2;
      for (; j < tokens.length && tokens[j]?.text !== '}'; j++) {
        if (tokens[j]?.kind === 'ident' && ['=', '!=', '=~', '!~'].includes(tokens[j + 1]?.text ?? '')) names.push(tokens[j]?.text ?? '');
      }
      matcherLabels.set(token.text, [...(matcherLabels.get(token.text) ?? []), ...names]);
      i = j;
    }
  }
  return { metrics, matcherLabels, groupingLabels };
}

/** Every problem with one PromQL expression against a scrape; an empty list means it is fine. */
export function checkPromql(expr: string, scrape: Scrape, prefixes: string | readonly string[]): string[] {
  const accepted = typeof prefixes === 'string' ? [prefixes] : prefixes;
  const problems: string[] = [];
  if (expr.includes('$')) problems.push(`a template variable is left in: ${expr}`);
  let names: PromqlNames;
  try {
    names = promqlNames(expr);
  } catch (err) {
    return [...problems, err instanceof Error ? err.message : String(err)];
  }
  if (names.metrics.length === 0) problems.push(`names no metric: ${expr}`);
  const target = new Set<string>(TARGET_LABELS);
  const known = new Set<string>(target);
  let everyMetricSampled = true;
  for (const metric of names.metrics) {
    if (!accepted.some((p) => metric.startsWith(p))) problems.push(`${metric} is not one of the shipper's metrics (${accepted.map((p) => `${p}*`).join(', ')})`);
    if (!scrape.names.has(metric)) {
      problems.push(`${metric} is not in the /metrics scrape`);
      continue;
    }
    const labels = scrape.labels.get(metric);
    if (labels === undefined) {
      everyMetricSampled = false;
      continue;
    }
    for (const l of labels) known.add(l);
    for (const label of names.matcherLabels.get(metric) ?? []) {
      if (!target.has(label) && !labels.has(label)) problems.push(`${metric} has no label "${label}"`);
    }
  }
  // A labelled metric with no sample yet (e.g. push requests before the first push) shows no label
  // names in the scrape; grouping labels are checked only when every metric shows its labels.
  if (everyMetricSampled) for (const label of names.groupingLabels) if (!known.has(label)) problems.push(`groups by "${label}", which no metric in the expression has`);
  return problems;
}
