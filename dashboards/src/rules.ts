/**
 * The Loki ruler alert rules (`deploy/rules/loki-rules.yaml`), built from the same failure
 * families as the dashboards. Every rule groups by bounded stream labels only (cluster, job,
 * namespace, kind, reason), never by object or event, so it stays within Loki's default
 * max_query_series (500) however many objects fail at once; the alert names the namespace and the
 * dashboards list the objects.
 */
import { DEFAULT_JOB, FAILURES, MORE_FAMILIES, sumOccurrences, type Family } from './families.js';

interface Rule {
  readonly alert: string;
  /** Why the rule has this shape, written above it as a YAML comment. */
  readonly comment?: string;
  readonly expr: string;
  readonly for?: string;
  readonly severity: 'critical' | 'warning' | 'info';
  readonly summary: string;
  readonly description: string;
}

interface Group {
  readonly name: string;
  readonly rules: readonly Rule[];
}

const NAMESPACE = ['cluster', 'job', 'namespace'];
const CLUSTER = ['cluster', 'job'];

function stream(job: string, family: Family): string {
  const selector = `{${[`job="${job}"`, ...family.matchers].join(', ')}}`;
  return family.line === '' ? selector : `${selector} ${family.line}`;
}

/** `sum by (…) (count_over_time(family [window]))`, indented for a YAML block. */
function updatesBy(job: string, by: readonly string[], family: Family, window: string, indent = ''): string {
  return `${indent}sum by (${by.join(', ')}) (\n${indent}  count_over_time(${stream(job, family)} [${window}])\n${indent})`;
}

/** "Reported within the last `window`" per group. */
function presence(job: string, by: readonly string[], family: Family, window: string): string {
  return `${updatesBy(job, by, family, window)} > 0`;
}

const WHICH = 'The Overview dashboard (Top objects with warnings) and the Object drill-down list the objects.';

function lokiRuleGroups(job: string): Group[] {
  return [
    {
      name: 'kube-events-workloads',
      rules: [
        {
          alert: 'KubePodCrashLooping',
          expr: presence(job, NAMESPACE, FAILURES.crashLoop, '10m'),
          for: '15m',
          severity: 'warning',
          summary: 'Pods in {{ $labels.namespace }} are crash looping',
          description: `The kubelet has kept reporting BackOff (restarting failed container) in namespace {{ $labels.namespace }} for at least 5 minutes, the last within 10 minutes, in cluster {{ $labels.cluster }}. ${WHICH}`,
        },
        {
          alert: 'KubeContainerOOMKilled',
          expr: presence(job, NAMESPACE, FAILURES.oom, '10m'),
          severity: 'warning',
          summary: 'OOM kill in {{ $labels.namespace }}',
          description: `A process was killed for lack of memory (namespace _cluster: reported by a node) in cluster {{ $labels.cluster }}. ${WHICH}`,
        },
        {
          alert: 'KubeImagePullFailing',
          expr: presence(job, NAMESPACE, FAILURES.imagePull, '10m'),
          for: '15m',
          severity: 'warning',
          summary: 'Pods in {{ $labels.namespace }} cannot pull their images',
          description: `Image pull failures reported for at least 5 minutes, the last within 10 minutes, in cluster {{ $labels.cluster }}. ${WHICH}`,
        },
        {
          alert: 'KubeProbeFailing',
          expr: presence(job, NAMESPACE, FAILURES.unhealthy, '10m'),
          for: '15m',
          severity: 'info',
          summary: 'Probes keep failing in {{ $labels.namespace }}',
          description: `Probe failures (Unhealthy) reported for at least 5 minutes, the last within 10 minutes, in cluster {{ $labels.cluster }}. ${WHICH}`,
        },
        {
          alert: 'KubeVolumeMountFailing',
          expr: presence(job, NAMESPACE, FAILURES.failedMount, '10m'),
          for: '15m',
          severity: 'warning',
          summary: 'Volumes cannot be attached or mounted in {{ $labels.namespace }}',
          description: `FailedMount/FailedAttachVolume reported for at least 5 minutes, the last within 10 minutes, in cluster {{ $labels.cluster }}. ${WHICH}`,
        },
        {
          alert: 'KubeWorkloadCannotCreatePods',
          expr: presence(job, [...NAMESPACE, 'kind'], MORE_FAMILIES.cannotCreatePods, '15m'),
          severity: 'warning',
          summary: '{{ $labels.kind }} objects in {{ $labels.namespace }} cannot create pods or failed',
          description: `FailedCreate, BackoffLimitExceeded or DeadlineExceeded in cluster {{ $labels.cluster }} (quota, admission, job failures). ${WHICH}`,
        },
      ],
    },
    {
      name: 'kube-events-scheduling',
      rules: [
        {
          alert: 'KubePodUnschedulable',
          comment:
            'The scheduler reports through events.k8s.io: repeats fold into a series written again\n' +
            'only every 30 minutes, hence the 35m window. It ends once a pod of the namespace was\n' +
            'Scheduled and no FailedScheduling came for 5 minutes (a pod scheduled after a short wait).',
          expr:
            `(\n${updatesBy(job, NAMESPACE, FAILURES.failedScheduling, '35m', '  ')} > 0\n)\nunless\n(\n` +
            `${updatesBy(job, NAMESPACE, MORE_FAMILIES.scheduled, '35m', '  ')}\n  unless\n${updatesBy(job, NAMESPACE, FAILURES.failedScheduling, '5m', '  ')}\n)`,
          for: '10m',
          severity: 'warning',
          summary: 'Pods in {{ $labels.namespace }} cannot be scheduled',
          description:
            'FailedScheduling for at least 10 minutes in namespace {{ $labels.namespace }} (cluster {{ $labels.cluster }}) and no pod Scheduled there without a new failure since; a pod deleted while pending clears within 35 minutes. The Nodes and scheduling dashboard (Pods waiting to be scheduled) lists the pods.',
        },
        {
          alert: 'KubePodsEvicted',
          comment: 'Occurrences, not lines: each eviction is one occurrence of its pod\'s event.',
          expr: `sum by (${NAMESPACE.join(', ')}) (\n  ${sumOccurrences(stream(job, FAILURES.evicted), '15m')}\n) >= 3`,
          severity: 'warning',
          summary: 'Pods evicted in {{ $labels.namespace }}',
          description: '{{ $value }} evictions in 15 minutes in cluster {{ $labels.cluster }} (node pressure or taints). The Nodes and scheduling dashboard shows them.',
        },
      ],
    },
    {
      name: 'kube-events-nodes',
      rules: [
        {
          alert: 'KubeNodeNotReady',
          expr: presence(job, CLUSTER, FAILURES.nodeNotReady, '10m'),
          severity: 'critical',
          summary: 'Nodes turned NotReady in cluster {{ $labels.cluster }}',
          description: '{{ $value }} NodeNotReady reports in 10 minutes: the node controller marked nodes NotReady. The Nodes and scheduling dashboard (Node condition changes per node) names them.',
        },
        {
          alert: 'KubeNodeUnderPressure',
          expr: presence(job, [...CLUSTER, 'reason'], MORE_FAMILIES.nodePressure, '15m'),
          severity: 'warning',
          summary: '{{ $labels.reason }} on nodes of cluster {{ $labels.cluster }}',
          description: 'The kubelet reports resource pressure. The Nodes and scheduling dashboard (Node condition changes per node) names the nodes.',
        },
        {
          alert: 'KubeNodeRebooted',
          expr: presence(job, CLUSTER, MORE_FAMILIES.rebooted, '10m'),
          severity: 'info',
          summary: 'Nodes rebooted in cluster {{ $labels.cluster }}',
          description: 'The kubelet reported a reboot. The Nodes and scheduling dashboard names the nodes.',
        },
      ],
    },
  ];
}

const HEADER = `# Loki ruler alert rules on the shipped Kubernetes Events (Prometheus-style groups, LogQL exprs).
# Generated by \`npm run dashboards\` from dashboards/src/rules.ts (the failure families are the
# dashboards' own, dashboards/src/families.ts): edit those, not this file.
# Load them into the Loki ruler (rule storage directory per tenant, or \`lokitool rules sync\` /
# \`cortextool rules load\`). Another job label: \`npm run dashboards -- --job NAME --out DIR\`.
#
# Every rule groups by stream labels only (cluster, job, namespace, kind, reason), never by object:
# a per-object grouping needs one series per failing object and breaks Loki's default
# max_query_series (500) when many fail at once, which is when alerts matter most. The alert
# names the namespace; the dashboards list the objects.
#
# Why presence, not "N lines in 15m": the shipper writes one line per event *update*, and the
# components rate-limit updates, not occurrences. The legacy core/v1 recorder (kubelet,
# controller-manager) lets 25 updates per object through in a burst, then one per 5 minutes while
# the count keeps climbing (fixture events/controllers: count 26 -> 42 -> 62 -> 82, five minutes
# apart); the events.k8s.io recorder (scheduler) folds repeats into a series and writes it again
# only every 30 minutes. A line-count threshold above what that cadence allows stops holding once a
# problem persists. So each rule asks "was this reported in the last W?" (> 0), with W longer than
# the reporter's quiet interval, and a \`for:\` longer than W where a one-off should not page: the
# alert then fires only when reports kept coming for at least \`for\` - W, and keeps firing while
# the problem persists. test/dashboards/rules.test.ts replays the fixture's cadence against each
# rule.
`;

const indent = (text: string, spaces: number): string =>
  text
    .split('\n')
    .map((line) => `${' '.repeat(spaces)}${line}`)
    .join('\n');

function ruleYaml(rule: Rule): string {
  const lines = [`      - alert: ${rule.alert}`];
  if (rule.comment !== undefined) lines.push(indent(rule.comment.split('\n').map((l) => `# ${l}`).join('\n'), 8));
  lines.push('        expr: |', indent(rule.expr, 10));
  if (rule.for !== undefined) lines.push(`        for: ${rule.for}`);
  lines.push('        labels:', `          severity: ${rule.severity}`, '        annotations:');
  lines.push(`          summary: ${JSON.stringify(rule.summary)}`, `          description: ${JSON.stringify(rule.description)}`);
  return lines.join('\n');
}

/** The rules file for a job label (default: the shipper's default job). */
export function lokiRulesYaml(job = DEFAULT_JOB): string {
  const groups = lokiRuleGroups(job).map((g) => [`  - name: ${g.name}`, '    interval: 1m', '    rules:', ...g.rules.map(ruleYaml)].join('\n'));
  return `${HEADER}groups:\n${groups.join('\n')}\n`;
}
