/**
 * A model of Loki's max_query_series (500 by default) for the dashboards' and rules' metric
 * queries. A generated week of a busy cluster (100,000 distinct events) gives the label values;
 * every aggregation step of a query yields one series per distinct combination of the labels it
 * keeps, among the events its stream selector selects, over the whole week (an upper bound for any
 * shorter range). A step over 500 is what Loki refuses with "maximum of series (500) reached for a
 * single query".
 *
 * How Loki evaluates, as measured on Loki 3.2.2 (../shared/fixtures/README.md):
 * - a range aggregation (`count_over_time`, `sum_over_time(… | unwrap x …)`) with no `by` of its
 *   own, directly inside a vector aggregation, is evaluated with the outer grouping:
 *   `sum by (reason) (sum_over_time({…} | logfmt count | unwrap count [24h]))` answers with 38
 *   series on a day of 20k events, though each entry has its own labels;
 * - anywhere else a step keeps all labels of the entries (stream labels, structured metadata and
 *   parsed fields), one series per entry at least: `max_over_time(…) by (event_uid)` and binary
 *   operations between per-event vectors fail.
 */
import { parser } from '@grafana/lezer-logql';

type SyntaxNode = ReturnType<typeof parser.parse>['topNode'];

/** One event's bounded values: stream labels and per-event structured metadata. */
export type EventLabels = Readonly<Record<string, string>>;

export const LOKI_MAX_QUERY_SERIES = 500;

// ---- the generated week ----

/** mulberry32: a small seeded generator, so the week is the same on every run. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** reason, type, kind of the involved object, reporting component, relative frequency. */
const REASONS: readonly (readonly [string, 'Normal' | 'Warning', string, string, number])[] = [
  ['Scheduled', 'Normal', 'Pod', 'default-scheduler', 10],
  ['Pulling', 'Normal', 'Pod', 'kubelet', 8],
  ['Pulled', 'Normal', 'Pod', 'kubelet', 10],
  ['Created', 'Normal', 'Pod', 'kubelet', 10],
  ['Started', 'Normal', 'Pod', 'kubelet', 10],
  ['Killing', 'Normal', 'Pod', 'kubelet', 8],
  ['BackOff', 'Warning', 'Pod', 'kubelet', 6],
  ['Unhealthy', 'Warning', 'Pod', 'kubelet', 6],
  ['FailedScheduling', 'Warning', 'Pod', 'default-scheduler', 3],
  ['FailedMount', 'Warning', 'Pod', 'kubelet', 2],
  ['FailedAttachVolume', 'Warning', 'Pod', 'attachdetach-controller', 0.3],
  ['Failed', 'Warning', 'Pod', 'kubelet', 2],
  ['Evicted', 'Warning', 'Pod', 'kubelet', 1],
  ['TaintManagerEviction', 'Normal', 'Pod', 'taint-controller', 0.5],
  ['Preempted', 'Normal', 'Pod', 'default-scheduler', 0.5],
  ['FailedCreatePodSandBox', 'Warning', 'Pod', 'kubelet', 1],
  ['SandboxChanged', 'Normal', 'Pod', 'kubelet', 1],
  ['SuccessfulCreate', 'Normal', 'ReplicaSet', 'replicaset-controller', 5],
  ['SuccessfulDelete', 'Normal', 'ReplicaSet', 'replicaset-controller', 4],
  ['FailedCreate', 'Warning', 'ReplicaSet', 'replicaset-controller', 0.5],
  ['ScalingReplicaSet', 'Normal', 'Deployment', 'deployment-controller', 5],
  ['SuccessfulCreate', 'Normal', 'Job', 'job-controller', 2],
  ['Completed', 'Normal', 'Job', 'job-controller', 2],
  ['BackoffLimitExceeded', 'Warning', 'Job', 'job-controller', 0.2],
  ['DeadlineExceeded', 'Warning', 'Job', 'job-controller', 0.1],
  ['SuccessfulCreate', 'Normal', 'CronJob', 'cronjob-controller', 1],
  ['SawCompletedJob', 'Normal', 'CronJob', 'cronjob-controller', 1],
  ['SuccessfulCreate', 'Normal', 'StatefulSet', 'statefulset-controller', 0.5],
  ['SuccessfulCreate', 'Normal', 'DaemonSet', 'daemonset-controller', 0.5],
  ['SuccessfulRescale', 'Normal', 'HorizontalPodAutoscaler', 'horizontal-pod-autoscaler', 1],
  ['FailedGetResourceMetric', 'Warning', 'HorizontalPodAutoscaler', 'horizontal-pod-autoscaler', 1],
  ['ProvisioningSucceeded', 'Normal', 'PersistentVolumeClaim', 'persistentvolume-controller', 0.3],
  ['FailedBinding', 'Normal', 'PersistentVolumeClaim', 'persistentvolume-controller', 0.3],
  ['Sync', 'Normal', 'Ingress', 'nginx-ingress-controller', 1],
  ['EnsuringLoadBalancer', 'Normal', 'Service', 'service-controller', 0.2],
  ['Issuing', 'Normal', 'Certificate', 'cert-manager-certificates-issuing', 0.3],
  ['NodeNotReady', 'Normal', 'Node', 'node-controller', 0.3],
  ['NodeReady', 'Normal', 'Node', 'kubelet', 0.3],
  ['RegisteredNode', 'Normal', 'Node', 'node-controller', 0.2],
  ['Starting', 'Normal', 'Node', 'kubelet', 0.2],
  ['Rebooted', 'Warning', 'Node', 'kubelet', 0.05],
  ['NodeHasDiskPressure', 'Normal', 'Node', 'kubelet', 0.1],
  ['EvictionThresholdMet', 'Warning', 'Node', 'kubelet', 0.1],
  ['NodeHasSufficientMemory', 'Normal', 'Node', 'kubelet', 0.2],
  ['NodeNotSchedulable', 'Normal', 'Node', 'kubelet', 0.1],
  ['OOMKilling', 'Warning', 'Node', 'kernel-monitor', 0.3],
  ['SystemOOM', 'Warning', 'Node', 'kubelet', 0.1],
  ['ImageGCFailed', 'Warning', 'Node', 'kubelet', 0.05],
];

export interface WeekShape {
  readonly events: number;
  readonly namespaces: number;
  readonly nodes: number;
  /** Distinct objects per namespace and kind an event may be about. */
  readonly objectsPerNamespaceAndKind: number;
}

/** A busy cluster's week: 100k distinct events, 150 namespaces, 300 nodes. */
export const BUSY_WEEK: WeekShape = { events: 100_000, namespaces: 150, nodes: 300, objectsPerNamespaceAndKind: 400 };

/** Every event of the week with its bounded labels; the entries' own fields (count, occurrences, msg) are per entry. */
export function generateWeek(shape: WeekShape = BUSY_WEEK, seed = 7): EventLabels[] {
  const next = random(seed);
  const namespaces = ['kube-system', 'monitoring', 'ingress-nginx', 'cert-manager', ...Array.from({ length: shape.namespaces - 4 }, (_, i) => `team-${String(i)}`)];
  // A few busy namespaces and a long tail, as in real clusters.
  const nsWeights = namespaces.map((_, i) => 1 / (i + 1) ** 0.8);
  const pick = <T>(items: readonly T[], weights: readonly number[]): T => {
    const total = weights.reduce((a, b) => a + b, 0);
    let r = next() * total;
    for (let i = 0; i < items.length; i++) {
      r -= weights[i] ?? 0;
      if (r <= 0) return items[i] as T;
    }
    return items[items.length - 1] as T;
  };
  const reasonWeights = REASONS.map((r) => r[4]);
  const weekStart = Date.parse('2026-01-01T00:00:00Z');
  const events: EventLabels[] = [];
  for (let i = 0; i < shape.events; i++) {
    const [reason, type, kind, source] = pick(REASONS, reasonWeights);
    const node = `node-${String(Math.floor(next() * shape.nodes))}`;
    const namespace = kind === 'Node' ? '_cluster' : pick(namespaces, nsWeights);
    const objectName = kind === 'Node' ? node : `${kind.toLowerCase()}-${String(Math.floor(next() * shape.objectsPerNamespaceAndKind))}`;
    events.push({
      job: 'kube-event-shipper',
      cluster: 'prod-eu',
      namespace,
      reason,
      type,
      kind,
      source,
      object_name: objectName,
      object_uid: `${namespace}/${kind}/${objectName}`,
      node: kind === 'Node' || kind === 'Pod' ? node : '',
      event_uid: `event-${String(i)}`,
      level: type === 'Warning' ? 'warn' : 'info',
      // spread over the week; the model counts over the whole week, an upper bound for any range
      time: String(weekStart + Math.floor(next() * 7 * 86_400_000)),
    });
  }
  return events;
}

// ---- evaluating a query's steps ----

export interface SeriesStep {
  /** The step's text in the query. */
  readonly step: string;
  /** Labels the step keeps (`*` = every label of the entries). */
  readonly keeps: string;
  readonly series: number;
}

interface Value {
  readonly events: readonly EventLabels[];
  /** Labels kept; null = every label of the entries (at least one series per entry). */
  readonly labels: readonly string[] | null;
  readonly series: number;
}

function kids(node: SyntaxNode): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  for (let c = node.firstChild; c !== null; c = c.nextSibling) out.push(c);
  return out;
}
const kid = (node: SyntaxNode, name: string): SyntaxNode | undefined => kids(node).find((c) => c.name === name);

/** Distinct combinations of `labels` among `events`; a label an event lacks is per entry. */
export function distinctSeries(events: readonly EventLabels[], labels: readonly string[] | null): number {
  if (labels === null) return events.length;
  const seen = new Set<string>();
  for (const e of events) seen.add(labels.map((l) => (l in e && l !== 'time' ? e[l] : `entry:${e['event_uid'] ?? ''}`)).join('\u0000'));
  return seen.size;
}

/** Every aggregation step of a LogQL metric query with the series it yields on `events`. */
export function seriesSteps(expr: string, events: readonly EventLabels[]): SeriesStep[] {
  const tree = parser.parse(expr);
  const text = (n: SyntaxNode): string => expr.slice(n.from, n.to);
  const steps: SeriesStep[] = [];
  const record = (node: SyntaxNode, value: Value): Value => {
    steps.push({ step: text(node), keeps: value.labels === null ? '*' : value.labels.join(', '), series: value.series });
    return value;
  };

  const grouping = (node: SyntaxNode): { by: readonly string[] | null } | undefined => {
    const g = kid(node, 'Grouping');
    if (g === undefined) return undefined;
    const labels = kid(g, 'Labels');
    const names: string[] = [];
    if (labels !== undefined) labels.cursor().iterate((c) => void (c.name === 'Identifier' ? names.push(expr.slice(c.from, c.to)) : undefined));
    // `without (…)` keeps every other label: per entry.
    return { by: kid(g, 'Without') !== undefined ? null : names };
  };

  const selected = (logRange: SyntaxNode): EventLabels[] => {
    const matchers: { name: string; op: string; value: string }[] = [];
    const selector = kid(logRange, 'Selector');
    selector?.cursor().iterate((c) => {
      if (c.name !== 'Matcher') return;
      const m = c.node;
      const name = kid(m, 'Identifier');
      const value = kid(m, 'String');
      const op = kids(m).find((k) => ['Eq', 'Neq', 'Re', 'Nre'].includes(k.name));
      if (name && value && op) matchers.push({ name: text(name), op: op.name, value: JSON.parse(text(value)) as string });
    });
    const tests = matchers.map(({ name, op, value }) => {
      const re = new RegExp(`^(?:${value})$`);
      const test = (v: string): boolean => (op === 'Eq' ? v === value : op === 'Neq' ? v !== value : op === 'Re' ? re.test(v) : !re.test(v));
      return (e: EventLabels): boolean => test(e[name] ?? '');
    });
    return events.filter((e) => tests.every((t) => t(e)));
  };

  const rangeAggregation = (node: SyntaxNode, outer: readonly string[] | null | undefined): Value => {
    const logRange = kid(node, 'LogRangeExpr');
    const chosen = logRange === undefined ? [] : selected(logRange);
    const own = grouping(node);
    if (own !== undefined) return record(node, { events: chosen, labels: own.by, series: distinctSeries(chosen, own.by) });
    // Directly inside a vector aggregation, Loki groups the range step by the outer labels.
    if (outer !== undefined) return { events: chosen, labels: outer, series: distinctSeries(chosen, outer) };
    return record(node, { events: chosen, labels: null, series: distinctSeries(chosen, null) });
  };

  const evaluate = (node: SyntaxNode, outer?: readonly string[] | null): Value => {
    switch (node.name) {
      case 'RangeAggregationExpr':
        return rangeAggregation(node, outer);
      case 'VectorAggregationExpr': {
        const by = grouping(node)?.by ?? [];
        const inner = kids(node).find((k) => k.name === 'MetricExpr');
        if (inner === undefined) throw new Error(`no inner expression in ${text(node)}`);
        const innerValue = evaluate(inner, grouping(node) === undefined ? [] : by);
        const op = text(kid(node, 'VectorOp') ?? node);
        if (op === 'topk' || op === 'bottomk') {
          const k = Number(text(kid(node, 'Number') ?? node));
          return record(node, { ...innerValue, series: Math.min(k * Math.max(1, by.length === 0 ? 1 : distinctSeries(innerValue.events, by)), innerValue.series) });
        }
        return record(node, { events: innerValue.events, labels: by, series: distinctSeries(innerValue.events, by) });
      }
      case 'BinOpExpr': {
        const sides = kids(node).filter((k) => k.name === 'Expr').map((k) => evaluate(k));
        const [left, right] = sides;
        if (left === undefined || right === undefined) throw new Error(`binary operation without two sides: ${text(node)}`);
        const union = kid(node, 'Or') !== undefined;
        const series = union ? left.series + right.series : Math.max(left.series, right.series);
        return record(node, { events: [...left.events, ...right.events], labels: left.labels ?? right.labels, series });
      }
      case 'LiteralExpr':
        return { events: [], labels: [], series: 1 };
      default: {
        // Expr, MetricExpr, parentheses: pass through to the one expression inside.
        const inner = kids(node).filter((k) => ['Expr', 'MetricExpr', 'RangeAggregationExpr', 'VectorAggregationExpr', 'BinOpExpr', 'LiteralExpr'].includes(k.name));
        if (inner.length !== 1 || inner[0] === undefined) throw new Error(`cannot model ${node.name} in ${text(node)}`);
        return evaluate(inner[0], outer);
      }
    }
  };

  const top = kid(tree.topNode, 'Expr');
  if (top === undefined || kid(top, 'MetricExpr') === undefined) return [];
  evaluate(top);
  return steps;
}

/** Steps over Loki's default limit, as readable problems. */
export function seriesLimitProblems(expr: string, events: readonly EventLabels[], limit = LOKI_MAX_QUERY_SERIES): string[] {
  return seriesSteps(expr, events)
    .filter((s) => s.series > limit)
    .map((s) => `${String(s.series)} series (> ${String(limit)}) keeping ${s.keeps} at: ${s.step.length > 160 ? `${s.step.slice(0, 160)}…` : s.step}`);
}
