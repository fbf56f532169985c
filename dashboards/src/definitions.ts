/**
 * The four bundled dashboards. `npm run dashboards` (generate.ts) writes them to
 * `dashboards/*.json`; a test checks the committed files are exactly what this produces.
 *
 * Query rules, so every panel answers on a stock Loki (max_query_series 500) over 7 days of a busy
 * cluster: select by stream labels first (job, cluster, namespace, reason, type, kind), filter on
 * structured metadata (object_name, node) without parsing, and group metric queries only by stream
 * labels, whose values are few. Occurrences are the sum of the structured metadata `occurrences`
 * (how many occurrences each entry adds), so no query needs a series per event. Lists of objects
 * or nodes are logs panels turned into tables by Grafana transformations: they read a bounded
 * number of lines (newest first) and group them in the browser, where no series limit applies.
 */
import { CLUSTER_SCOPED_NAMESPACE } from '../../src/transform/index.js';
import { DEFAULT_JOB, FAILURES, MORE_FAMILIES, OCCURRENCES_FIELD, sumOccurrences, type Family } from './families.js';
import {
  customVariable,
  dashboardJson,
  datasourceRef,
  datasourceVariable,
  queryVariable,
  textVariable,
  type DashboardSpec,
  type JsonObject,
  type PanelSpec,
  type VariableSpec,
} from './model.js';

const TAGS = ['kube-event-shipper', 'kubernetes', 'events'];

type Filter = 'namespace' | 'kind' | 'reason' | 'type';

/** Stream selector with the dashboard filters, plus extra matchers (`reason="BackOff"`, …). */
function selector(extra: readonly string[] = [], filters: readonly Filter[] = ['namespace', 'kind', 'reason', 'type']): string {
  const matchers = ['job="$job"', 'cluster=~"$cluster"', ...filters.map((f) => `${f}=~"$${f}"`), ...extra];
  return `{${matchers.join(', ')}}`;
}

const SEARCH = '|~ "(?i)$search"';

/** Occurrences per group (stream labels only) over a window. */
export function occurrences(stream: string, groupBy: readonly string[], window: string): string {
  const inner = sumOccurrences(stream, window);
  return groupBy.length === 0 ? `sum(${inner})` : `sum by (${groupBy.join(', ')}) (${inner})`;
}

/** Updates (shipped lines) per group over a window: cheap, no parsing. */
function updates(stream: string, groupBy: readonly string[], window: string): string {
  const inner = `count_over_time(${stream} [${window}])`;
  return groupBy.length === 0 ? `sum(${inner})` : `sum by (${groupBy.join(', ')}) (${inner})`;
}

const OCCURRENCES_NOTE =
  'Occurrences are the sum of the structured metadata occurrences the shipper attaches to each entry (the count Kubernetes added since the entry before, so an update that folded 20 occurrences counts 20). Entries written before the shipper attached it count as one each.';
const UPDATES_NOTE = 'Counts shipped lines: one per event update (a new event or a raised count), not occurrences.';

/** Loki's default max_entries_limit_per_query: the most lines one log query returns. */
export const TABLE_LINES = 5000;
const TABLE_NOTE = `Built in the browser from the newest ${TABLE_LINES.toLocaleString('en')} matching entries of the time range (Loki's default max_entries_limit_per_query): on a busy cluster older entries of a long range are left out; narrow the time range, the namespace or the reason to see them all.`;

const DRILLDOWN_UID = 'kes-object-drilldown';

/** A data link to the object drill-down for the row's object, keeping job, cluster and time range. */
function drilldownLink(kind: string, namespace: string): JsonObject {
  return {
    title: 'Object drill-down',
    url: `/d/${DRILLDOWN_UID}?\${job:queryparam}&\${cluster:queryparam}&\${line_format:queryparam}&var-namespace=${namespace}&var-kind=${kind}&var-object=\${__data.fields.object_name}&var-object_match=%3D&\${__url_time_range}`,
    targetBlank: false,
  };
}

interface TableSpec {
  readonly title: string;
  readonly description: string;
  readonly stream: string;
  /** Fields (labels or metadata) rows are grouped by, in column order. */
  readonly groupBy: readonly string[];
  readonly rows: number;
  readonly sortBy: 'Occurrences' | 'Last seen';
  readonly w: number;
  readonly h: number;
  /**
   * Links object_name to the drill-down with the row's kind (`{ kind: 'row' }`) or a fixed one;
   * nodes are cluster-scoped, their namespace is the transform's `_cluster`.
   */
  readonly link?: { readonly kind: string };
}

/**
 * A table of objects (or nodes) from a log query: the newest TABLE_LINES entries, grouped by the
 * given fields with their summed occurrences, entries and last time seen.
 */
function logsTable(spec: TableSpec): PanelSpec {
  const fields: JsonObject = {};
  for (const field of spec.groupBy) fields[field] = { operation: 'groupby', aggregations: [] };
  fields['occurrences'] = { operation: 'aggregate', aggregations: ['sum', 'count'] };
  fields['Time'] = { operation: 'aggregate', aggregations: ['max'] };
  const sortField = spec.sortBy === 'Occurrences' ? 'occurrences (sum)' : 'Time (max)';
  const overrides: JsonObject[] = [{ matcher: { id: 'byName', options: 'Last seen' }, properties: [{ id: 'unit', value: 'dateTimeAsIso' }] }];
  if (spec.link !== undefined) {
    overrides.push({
      matcher: { id: 'byName', options: 'object_name' },
      properties: [{ id: 'links', value: [drilldownLink(spec.link.kind === 'row' ? '${__data.fields.kind}' : spec.link.kind, spec.link.kind === 'Node' ? CLUSTER_SCOPED_NAMESPACE : '${__data.fields.namespace}')] }],
    });
  }
  return {
    type: 'table',
    title: spec.title,
    description: `${spec.description} ${TABLE_NOTE}`,
    w: spec.w,
    h: spec.h,
    targets: [{ expr: `${spec.stream} ${OCCURRENCES_FIELD}`, maxLines: TABLE_LINES }],
    fieldConfig: { defaults: { unit: 'short' }, overrides },
    options: { showHeader: true, sortBy: [] },
    transformations: [
      { id: 'extractFields', options: { source: 'labels', format: 'auto', replace: false, keepTime: false } },
      { id: 'convertFieldType', options: { conversions: [{ targetField: 'occurrences', destinationType: 'number' }], fields: {} } },
      { id: 'groupBy', options: { fields } },
      { id: 'sortBy', options: { sort: [{ field: sortField, desc: true }] } },
      { id: 'limit', options: { limitField: spec.rows } },
      { id: 'organize', options: { excludeByName: {}, indexByName: {}, renameByName: { 'occurrences (sum)': 'Occurrences', 'occurrences (count)': 'Entries', 'Time (max)': 'Last seen' } } },
    ],
  };
}

/** Warning events of the selected namespaces as annotations (also shipped as a snippet for any dashboard). */
export function warningAnnotation(datasource: JsonObject, job: string, enable: boolean): JsonObject {
  const expr = `{job="${job}", cluster=~"$cluster", namespace=~"$namespace", type="Warning"}`;
  return {
    name: 'Kubernetes warnings',
    datasource,
    enable,
    hide: false,
    iconColor: 'orange',
    expr,
    instant: false,
    maxLines: 200,
    titleFormat: '{{reason}} {{kind}}',
    tagKeys: 'namespace,kind,reason',
    target: { refId: 'Anno', expr, queryType: 'range', maxLines: 200 },
  };
}

function lokiVariables(extra: readonly VariableSpec[] = []): VariableSpec[] {
  return [
    datasourceVariable('loki', 'Loki'),
    // Streams with a reason label are Kubernetes events; default: the shipper's default job.
    queryVariable('loki', 'job', 'Job', 'label_values({job=~".+", reason=~".+"}, job)', DEFAULT_JOB),
    queryVariable('loki', 'cluster', 'Cluster', 'label_values({job="$job"}, cluster)'),
    queryVariable('loki', 'namespace', 'Namespace', `label_values({job="$job", cluster=~"$cluster"}, namespace)`),
    queryVariable('loki', 'kind', 'Kind', `label_values({job="$job", cluster=~"$cluster", namespace=~"$namespace"}, kind)`),
    queryVariable('loki', 'reason', 'Reason', `label_values({job="$job", cluster=~"$cluster", namespace=~"$namespace", kind=~"$kind"}, reason)`),
    queryVariable('loki', 'type', 'Type', `label_values({job="$job", cluster=~"$cluster"}, type)`),
    ...extra,
    textVariable('search', 'Search', 'Case-insensitive regular expression matched against the whole line (message, object name, …).'),
    customVariable('line_format', 'Line format', ['logfmt', 'json'], 'The --line-format the shipper writes.'),
  ];
}

const LOKI_ANNOTATIONS = [warningAnnotation(datasourceRef('loki'), '$job', false)];

/** A stat panel: occurrences of one failure family over the dashboard's time range. */
function failureStat(title: string, family: Family, description: string): PanelSpec {
  const stream = `${selector(family.matchers, ['namespace'])}${family.line === '' ? '' : ` ${family.line}`}`;
  return {
    type: 'stat',
    title,
    description: `${description} ${OCCURRENCES_NOTE}`,
    w: 3,
    h: 4,
    targets: [{ expr: occurrences(stream, [], '$__range'), instant: true }],
  };
}

export { FAILURES } from './families.js';

const NODE_CONDITION_REASONS =
  'NodeNotReady|NodeReady|NodeNotSchedulable|NodeSchedulable|NodeHasDiskPressure|NodeHasNoDiskPressure|NodeHasInsufficientMemory|NodeHasSufficientMemory|NodeHasInsufficientPID|NodeHasSufficientPID|EvictionThresholdMet|Rebooted|RegisteredNode|RemovingNode|DeletingNode|NodeAllocatableEnforced|SystemOOM|OOMKilling|KernelDeadlock|ContainerGCFailed|ImageGCFailed|InvalidDiskCapacity|FreeDiskSpaceFailed';

const dashboardLink = (title: string, uid: string): JsonObject => ({
  title,
  type: 'link',
  url: `/d/${uid}?\${__url_time_range}&\${__all_variables}`,
  icon: 'dashboard',
  targetBlank: false,
  keepTime: false,
  includeVars: false,
});

const LINKS = [
  dashboardLink('Events overview', 'kes-events-overview'),
  dashboardLink('Object drill-down', DRILLDOWN_UID),
  dashboardLink('Nodes and scheduling', 'kes-nodes-scheduling'),
];

export const eventsOverview: DashboardSpec = {
  uid: 'kes-events-overview',
  title: 'Kubernetes events / Overview',
  description: 'Kubernetes Events shipped to Loki by kube-event-shipper: what happens, where, and the classic failures.',
  tags: TAGS,
  datasource: 'loki',
  refresh: '5m',
  variables: lokiVariables(),
  annotations: LOKI_ANNOTATIONS,
  links: LINKS,
  rows: [
    [
      failureStat('CrashLoop / BackOff', FAILURES.crashLoop, 'Containers restarting after failing (BackOff "restarting failed container").'),
      failureStat('OOM killed', FAILURES.oom, 'Processes killed for lack of memory (OOMKilling, SystemOOM).'),
      failureStat('FailedScheduling', FAILURES.failedScheduling, 'Pods the scheduler could not place.'),
      failureStat('Evicted', FAILURES.evicted, 'Pods evicted by the kubelet (node pressure) or for taints.'),
      failureStat('FailedMount', FAILURES.failedMount, 'Volumes that could not be attached or mounted.'),
      failureStat('Unhealthy', FAILURES.unhealthy, 'Failed liveness, readiness or startup probes.'),
      failureStat('Image pull failures', FAILURES.imagePull, 'Images that could not be pulled (Failed / BackOff events about an image).'),
      failureStat('NodeNotReady', FAILURES.nodeNotReady, 'Nodes that turned NotReady.'),
    ],
    [
      {
        type: 'timeseries',
        title: 'Events by type',
        description: `Event updates per interval, by type. ${UPDATES_NOTE}`,
        w: 12,
        h: 8,
        bars: true,
        stack: true,
        targets: [{ expr: updates(`${selector()} ${SEARCH}`, ['type'], '$__interval'), legend: '{{type}}' }],
      },
      {
        type: 'timeseries',
        title: 'Warnings by reason',
        description: `Warning event updates per interval, by reason. ${UPDATES_NOTE}`,
        w: 12,
        h: 8,
        bars: true,
        stack: true,
        targets: [{ expr: updates(`${selector(['type="Warning"'])} ${SEARCH}`, ['reason'], '$__interval'), legend: '{{reason}}' }],
      },
    ],
    [
      {
        type: 'timeseries',
        title: 'Events by namespace (top 10)',
        description: `Event updates per interval in the 10 busiest namespaces (_cluster: cluster-scoped objects such as nodes). ${UPDATES_NOTE}`,
        w: 12,
        h: 8,
        stack: true,
        targets: [{ expr: `topk(10, ${updates(`${selector()} ${SEARCH}`, ['namespace'], '$__interval')})`, legend: '{{namespace}}' }],
      },
      {
        type: 'timeseries',
        title: 'Events by kind',
        description: `Event updates per interval, by kind of the involved object. ${UPDATES_NOTE}`,
        w: 12,
        h: 8,
        stack: true,
        targets: [{ expr: updates(`${selector()} ${SEARCH}`, ['kind'], '$__interval'), legend: '{{kind}}' }],
      },
    ],
    [
      {
        type: 'timeseries',
        title: 'Warning occurrences by reason',
        description: `How often each warning happened per interval. ${OCCURRENCES_NOTE}`,
        w: 24,
        h: 8,
        bars: true,
        stack: true,
        targets: [{ expr: occurrences(`${selector(['type="Warning"'])} ${SEARCH}`, ['reason'], '$__interval'), legend: '{{reason}}' }],
      },
    ],
    [
      {
        type: 'bargauge',
        title: 'Top reasons',
        description: `The 15 most frequent reasons over the time range, in occurrences. ${OCCURRENCES_NOTE}`,
        w: 12,
        h: 10,
        targets: [{ expr: `topk(15, ${occurrences(`${selector()} ${SEARCH}`, ['reason', 'type'], '$__range')})`, legend: '{{reason}} ({{type}})', instant: true }],
      },
      logsTable({
        title: 'Top objects with warnings',
        description: 'The 20 objects with the most warning occurrences, with their warning entries and when last seen; click an object for its drill-down.',
        stream: `${selector(['type="Warning"'])} ${SEARCH}`,
        groupBy: ['namespace', 'kind', 'object_name'],
        rows: 20,
        sortBy: 'Occurrences',
        w: 12,
        h: 10,
        link: { kind: 'row' },
      }),
    ],
    [
      {
        type: 'logs',
        title: 'Events',
        description: 'The events as shipped, newest first, with the filters and the search above applied. Lines are coloured by the structured metadata level (info for Normal, warn for Warning).',
        w: 24,
        h: 14,
        targets: [{ expr: `${selector()} ${SEARCH}` }],
      },
    ],
  ],
};

/**
 * The object's name is in every line (`name=`), so a line filter narrows the chunks cheaply before
 * the structured metadata match. Exact by default; in regex mode the same RE2 pattern must match the
 * whole object_name (Loki anchors label regexes) and so also matches somewhere in the line.
 */
const OBJECT_FILTER = '|~ "$object" | object_name$object_match"$object"';
const MESSAGE_FORMAT = '| $line_format | line_format "{{.last_seen}} {{.type}} {{.reason}} {{.kind}}/{{.name}} count={{.count}} {{.msg}}"';

export const objectDrilldown: DashboardSpec = {
  uid: DRILLDOWN_UID,
  title: 'Kubernetes events / Object drill-down',
  description: 'The event history of one object, by exact name (or of every object whose name matches a regular expression): timeline and messages. Needs structured metadata (the shipper\'s default --structured-metadata=true).',
  tags: TAGS,
  datasource: 'loki',
  refresh: '5m',
  variables: lokiVariables([
    textVariable('object', 'Object name', 'The involved object\'s exact name (structured metadata object_name, empty when the shipper runs with --structured-metadata=false), e.g. a pod or node name.'),
    customVariable(
      'object_match',
      'Match',
      [
        { text: 'exact name', value: '=' },
        { text: 'regex (whole name)', value: '=~' },
      ],
      'How Object name is matched: the exact name, or an RE2 regular expression that must match the whole name, without ^ or $ (e.g. web-.* for the pods of a Deployment web).',
    ),
  ]),
  annotations: LOKI_ANNOTATIONS,
  links: LINKS,
  rows: [
    [
      {
        type: 'timeseries',
        title: 'Timeline',
        description: `Event updates of the object (or the matching objects) per interval, by reason and type. ${UPDATES_NOTE}`,
        w: 16,
        h: 9,
        bars: true,
        stack: true,
        targets: [{ expr: updates(`${selector()} ${OBJECT_FILTER} ${SEARCH}`, ['reason', 'type'], '$__interval'), legend: '{{reason}} ({{type}})' }],
      },
      logsTable({
        title: 'Matching objects',
        description: 'The object, or up to 50 objects whose name matches the regex, with their occurrences, entries and when last seen.',
        stream: `${selector()} ${OBJECT_FILTER} ${SEARCH}`,
        groupBy: ['namespace', 'kind', 'object_name'],
        rows: 50,
        sortBy: 'Occurrences',
        w: 8,
        h: 9,
        link: { kind: 'row' },
      }),
    ],
    [
      {
        type: 'table',
        title: 'Occurrences by reason',
        description: `How often each reason happened to the matching objects over the time range. ${OCCURRENCES_NOTE}`,
        w: 8,
        h: 12,
        targets: [{ expr: occurrences(`${selector()} ${OBJECT_FILTER} ${SEARCH}`, ['reason', 'type'], '$__range'), legend: '{{reason}} ({{type}})', instant: true }],
      },
      {
        type: 'logs',
        title: 'Messages',
        description: 'Every update of the matching objects: last seen, type, reason, object, cumulative count and message.',
        w: 16,
        h: 12,
        targets: [{ expr: `${selector()} ${OBJECT_FILTER} ${SEARCH} ${MESSAGE_FORMAT}` }],
      },
    ],
  ],
};

const NODE_STREAM = selector(['kind="Node"'], ['reason', 'type']);
const SCHEDULING_STREAM = selector(FAILURES.failedScheduling.matchers, ['namespace']);
const EVICTION_STREAM = selector([`reason=~"Evicted|TaintManagerEviction|Preempted"`], ['namespace', 'kind']);

export const nodesScheduling: DashboardSpec = {
  uid: 'kes-nodes-scheduling',
  title: 'Kubernetes events / Nodes and scheduling',
  description: 'Node conditions, evictions and scheduling failures from Kubernetes Events.',
  tags: [...TAGS, 'nodes'],
  datasource: 'loki',
  refresh: '5m',
  variables: lokiVariables(),
  annotations: LOKI_ANNOTATIONS,
  links: LINKS,
  rows: [
    [
      failureStat('NodeNotReady', FAILURES.nodeNotReady, 'Nodes that turned NotReady.'),
      failureStat('Node pressure', MORE_FAMILIES.nodePressure, 'Disk, memory or PID pressure on nodes.'),
      failureStat('Evictions', FAILURES.evicted, 'Pods evicted by the kubelet or for taints.'),
      failureStat('FailedScheduling', FAILURES.failedScheduling, 'Pods the scheduler could not place.'),
      failureStat('Preempted', MORE_FAMILIES.preempted, 'Pods preempted for higher-priority pods.'),
      failureStat('OOM killed', FAILURES.oom, 'Processes killed for lack of memory.'),
      failureStat('Rebooted', MORE_FAMILIES.rebooted, 'Node reboots seen by the kubelet.'),
      failureStat('Image GC / container GC failures', MORE_FAMILIES.gcFailures, 'The kubelet could not free disk space.'),
    ],
    [
      {
        type: 'timeseries',
        title: 'Node condition events',
        description: `Node events per interval, by reason (${String(NODE_CONDITION_REASONS.split('|').length)} known node reasons and any other). ${UPDATES_NOTE}`,
        w: 12,
        h: 9,
        bars: true,
        stack: true,
        targets: [{ expr: updates(`${NODE_STREAM} ${SEARCH}`, ['reason'], '$__interval'), legend: '{{reason}}' }],
      },
      logsTable({
        title: 'Node condition changes per node',
        description: 'Per node (object_name) and reason: occurrences, entries and when last seen, most recent first; click a node for its drill-down.',
        stream: `${selector(['kind="Node"', `reason=~"${NODE_CONDITION_REASONS}"`], ['type'])} ${SEARCH}`,
        groupBy: ['object_name', 'reason'],
        rows: 100,
        sortBy: 'Last seen',
        w: 12,
        h: 9,
        link: { kind: 'Node' },
      }),
    ],
    [
      {
        type: 'timeseries',
        title: 'Evictions by namespace',
        description: `Evicted, TaintManagerEviction and Preempted occurrences per interval, per namespace (the reasons are in the stat panels above). ${OCCURRENCES_NOTE}`,
        w: 12,
        h: 8,
        bars: true,
        stack: true,
        targets: [{ expr: occurrences(`${EVICTION_STREAM} ${SEARCH}`, ['namespace'], '$__interval'), legend: '{{namespace}}' }],
      },
      {
        type: 'timeseries',
        title: 'Scheduling failures by namespace',
        description: `FailedScheduling occurrences per interval. ${OCCURRENCES_NOTE}`,
        w: 12,
        h: 8,
        bars: true,
        stack: true,
        targets: [{ expr: occurrences(`${SCHEDULING_STREAM} ${SEARCH}`, ['namespace'], '$__interval'), legend: '{{namespace}}' }],
      },
    ],
    [
      logsTable({
        title: 'Pods waiting to be scheduled',
        description: 'Pods with FailedScheduling in the time range, most recently reported first, with their occurrences; a pod scheduled since still shows (its drill-down has the Scheduled event). Click a pod for its drill-down.',
        stream: `${SCHEDULING_STREAM} ${SEARCH}`,
        groupBy: ['namespace', 'object_name'],
        rows: 50,
        sortBy: 'Last seen',
        w: 10,
        h: 10,
        link: { kind: 'Pod' },
      }),
      logsTable({
        title: 'Warnings by node',
        description: 'Warning occurrences and entries per node the involved object runs on (structured metadata node).',
        stream: `${selector(['type="Warning"'])} | node!="" ${SEARCH}`,
        groupBy: ['node'],
        rows: 25,
        sortBy: 'Occurrences',
        w: 6,
        h: 10,
      }),
      {
        type: 'logs',
        title: 'Scheduling failures',
        description: 'Why the scheduler could not place pods.',
        w: 8,
        h: 10,
        targets: [{ expr: `${SCHEDULING_STREAM} ${SEARCH}` }],
      },
    ],
    [
      {
        type: 'logs',
        title: 'Node and eviction events',
        description: 'Events about nodes, and evictions.',
        w: 24,
        h: 12,
        targets: [{ expr: `${NODE_STREAM} ${SEARCH}` }, { expr: `${EVICTION_STREAM} ${SEARCH}` }],
      },
    ],
  ],
};

// ---- Shipper health (Prometheus) ----
/** A selector of one of our metrics; `standard` for prom-client's unprefixed process_* / nodejs_* ones. */
const M = (name: string, extra = '', standard = false): string =>
  `${standard ? '' : 'kube_event_shipper_'}${name}{cluster=~"$cluster", namespace=~"$namespace", job=~"$job", instance=~"$instance"${extra}}`;
/** Watch event types that are news: not the relist's LISTED nor BOOKMARK/DELETED. */
const LIVE_EVENT_TYPES = ', type=~"ADDED|MODIFIED"';
const rate = (name: string, extra = '', standard = false): string => `rate(${M(name, extra, standard)}[$__rate_interval])`;

function promVariables(): VariableSpec[] {
  const info = 'kube_event_shipper_build_info';
  return [
    datasourceVariable('prometheus', 'Prometheus'),
    queryVariable('prometheus', 'cluster', 'Cluster', `label_values(${info}, cluster)`),
    queryVariable('prometheus', 'namespace', 'Namespace', `label_values(${info}{cluster=~"$cluster"}, namespace)`),
    queryVariable('prometheus', 'job', 'Job', `label_values(${info}{cluster=~"$cluster", namespace=~"$namespace"}, job)`),
    queryVariable('prometheus', 'instance', 'Instance', `label_values(${info}{cluster=~"$cluster", namespace=~"$namespace", job=~"$job"}, instance)`),
  ];
}

const ts = (title: string, description: string, targets: PanelSpec['targets'], unit = 'short', w = 12): PanelSpec => ({ type: 'timeseries', title, description, w, h: 8, unit, targets });

export const shipperHealth: DashboardSpec = {
  uid: 'kes-shipper-health',
  title: 'kube-event-shipper / Health',
  description: "The shipper's own metrics: throughput, drops, Loki pushes, queue, watches, checkpoint, leader.",
  tags: ['kube-event-shipper', 'prometheus'],
  datasource: 'prometheus',
  refresh: '1m',
  variables: promVariables(),
  links: LINKS,
  rows: [
    [
      { type: 'stat', title: 'Leader', description: 'Instances that hold the lease (or run without leader election). Exactly 1 is healthy.', w: 4, h: 4, targets: [{ expr: `sum(${M('leader')})`, instant: true }], fieldConfig: { defaults: { color: { mode: 'thresholds' }, thresholds: { mode: 'absolute', steps: [{ color: 'red', value: null }, { color: 'green', value: 1 }, { color: 'red', value: 2 }] } }, overrides: [] } },
      { type: 'stat', title: 'Events in /s', description: 'New and updated events read from the API server (watch ADDED and MODIFIED). Relists (LISTED) and bookmarks are left out: each relist re-reads the whole list. "Events in and out" below shows every type.', w: 4, h: 4, unit: 'reqps', redFrom: 1e12, targets: [{ expr: `sum(${rate('events_received_total', LIVE_EVENT_TYPES)})`, instant: true }] },
      { type: 'stat', title: 'Shipped /s', description: 'Occurrences delivered to Loki.', w: 4, h: 4, unit: 'reqps', redFrom: 1e12, targets: [{ expr: `sum(${rate('events_shipped_total')})`, instant: true }] },
      { type: 'stat', title: 'Dropped (range)', description: 'Occurrences not delivered over the time range, any reason.', w: 4, h: 4, targets: [{ expr: `sum(increase(${M('events_dropped_total')}[$__range]))`, instant: true }] },
      { type: 'stat', title: 'Checkpoint age', description: 'Seconds since the leader last wrote its checkpoint (kube_event_shipper_checkpoint_last_write_timestamp_seconds).', w: 4, h: 4, unit: 's', redFrom: 300, targets: [{ expr: `max(time() - (${M('checkpoint_last_write_timestamp_seconds')} > 0))`, instant: true }] },
      { type: 'stat', title: 'Newest event age', description: 'Seconds since the time of the newest event received. High on a quiet cluster too.', w: 4, h: 4, unit: 's', redFrom: 3600, targets: [{ expr: `min(time() - (${M('last_event_timestamp_seconds')} > 0))`, instant: true }] },
    ],
    [
      ts('Events in and out', 'Read from the API server by watch event type, and delivered to Loki.', [
        { expr: `sum by (type) (${rate('events_received_total')})`, legend: 'in {{type}}' },
        { expr: `sum(${rate('events_shipped_total')})`, legend: 'shipped' },
        { expr: `sum(${rate('events_duplicate_total')})`, legend: 'duplicate (not shipped twice)' },
      ], 'reqps'),
      ts('Drops and filters', 'Occurrences dropped, by reason (malformed, loki_rejected, too_large, retries_exhausted, shutdown), and events left out by filters.', [
        { expr: `sum by (reason) (${rate('events_dropped_total')})`, legend: 'dropped {{reason}}' },
        { expr: `sum by (filter) (${rate('events_filtered_total')})`, legend: 'filtered {{filter}}' },
      ], 'reqps'),
    ],
    [
      ts('Push latency', 'Duration of push requests to Loki.', [
        { expr: `histogram_quantile(0.5, sum by (le) (${rate('push_duration_seconds_bucket')}))`, legend: 'p50' },
        { expr: `histogram_quantile(0.9, sum by (le) (${rate('push_duration_seconds_bucket')}))`, legend: 'p90' },
        { expr: `histogram_quantile(0.99, sum by (le) (${rate('push_duration_seconds_bucket')}))`, legend: 'p99' },
      ], 's'),
      ts('Push requests by status', 'Push requests per second by HTTP status code, network_error or timeout; and retries.', [
        { expr: `sum by (status_code) (${rate('push_requests_total')})`, legend: '{{status_code}}' },
        { expr: `sum(${rate('push_retries_total')})`, legend: 'retries' },
      ], 'reqps'),
    ],
    [
      ts('Queue', 'Entries and bytes waiting in the sink queue; a full queue pauses reading.', [
        { expr: `sum(${M('queue_entries')})`, legend: 'entries' },
      ], 'short', 8),
      ts('Queue bytes and push throughput', 'Bytes queued, and compressed bytes pushed per second.', [
        { expr: `sum(${M('queue_bytes')})`, legend: 'queued bytes' },
        { expr: `sum(${rate('bytes_pushed_total')})`, legend: 'pushed bytes/s' },
      ], 'bytes', 8),
      ts('Entries pushed', 'Entries in push requests Loki accepted.', [{ expr: `sum(${rate('entries_pushed_total')})`, legend: 'entries/s' }], 'reqps', 8),
    ],
    [
      ts('Watch restarts', 'Watches started again, by why the previous one ended. A timeout every ~30 s on a quiet cluster is normal.', [
        { expr: `sum by (reason) (increase(${M('watch_restarts_total')}[$__rate_interval]))`, legend: '{{reason}}' },
      ], 'short', 8),
      ts('Relists', 'Full lists, by reason. On a quiet cluster a relist every few minutes (gone, after etcd compaction) is expected.', [
        { expr: `sum by (reason) (increase(${M('relists_total')}[$__rate_interval]))`, legend: '{{reason}}' },
      ], 'short', 8),
      ts('Checkpoint', 'Age of the last checkpoint write, and writes by result.', [
        { expr: `max(time() - (${M('checkpoint_last_write_timestamp_seconds')} > 0))`, legend: 'age (s)' },
        { expr: `sum by (result) (increase(${M('checkpoint_writes_total')}[$__rate_interval]))`, legend: 'writes {{result}}' },
      ], 'short', 8),
    ],
    [
      ts('Memory', 'Resident memory and V8 heap per instance (compare with the container memory limit).', [
        { expr: `max by (instance) (${M('process_resident_memory_bytes', '', true)})`, legend: 'rss {{instance}}' },
        { expr: `sum by (instance) (${M('nodejs_heap_size_used_bytes', '', true)})`, legend: 'heap used {{instance}}' },
      ], 'bytes', 8),
      ts('CPU', 'CPU seconds per second per instance.', [{ expr: `sum by (instance) (${rate('process_cpu_seconds_total', '', true)})`, legend: '{{instance}}' }], 'percentunit', 8),
      ts('Event loop lag (p99)', 'Node.js event loop delay; high values delay watches, pushes and probes.', [
        { expr: `max by (instance) (${M('nodejs_eventloop_lag_p99_seconds', '', true)})`, legend: '{{instance}}' },
      ], 's', 8),
    ],
    [
      ts('Leader', 'Which instance holds the lease.', [{ expr: `max by (instance) (${M('leader')})`, legend: '{{instance}}' }], 'short', 12),
      { type: 'table', title: 'Versions', description: 'Shipper and Node.js version per instance.', w: 12, h: 8, targets: [{ expr: `max by (instance, version, node_version) (${M('build_info')})`, legend: '{{instance}} {{version}} node {{node_version}}', instant: true }] },
    ],
  ],
};

export const DASHBOARDS: readonly DashboardSpec[] = [eventsOverview, objectDrilldown, nodesScheduling, shipperHealth];

/** File name → dashboard JSON, as written to `dashboards/`. */
export function renderDashboards(): Map<string, JsonObject> {
  const files = new Map<string, JsonObject>();
  for (const spec of DASHBOARDS) files.set(`${spec.uid.replace(/^kes-/, '')}.json`, dashboardJson(spec));
  return files;
}
