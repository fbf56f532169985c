/**
 * The failure families, as stream-label matchers plus an optional line filter: one table for the
 * dashboards' stat panels and the Loki alert rules (`rules.ts`), so both always select the same.
 */

export interface Family {
  /** Stream-label matchers, e.g. `reason="BackOff"`. */
  readonly matchers: readonly string[];
  /** A line filter (`|= "…"`, `|~ "…"`) or ''. */
  readonly line: string;
}

const IMAGE_PULL_REASONS = 'Failed|BackOff|ErrImagePull|ImagePullBackOff|ErrImageNeverPull|InspectFailed';

/** The classic failures the overview's stat row shows; every one happened in the fixture corpora. */
export const FAILURES = {
  crashLoop: { matchers: ['type="Warning"', 'reason="BackOff"', 'kind="Pod"'], line: '|= "restarting failed container"' },
  oom: { matchers: ['reason=~"OOMKilling|SystemOOM"'], line: '' },
  failedScheduling: { matchers: ['kind="Pod"', 'reason="FailedScheduling"'], line: '' },
  evicted: { matchers: ['kind="Pod"', 'reason=~"Evicted|TaintManagerEviction"'], line: '' },
  failedMount: { matchers: ['type="Warning"', 'reason=~"FailedMount|FailedAttachVolume"'], line: '' },
  unhealthy: { matchers: ['type="Warning"', 'reason="Unhealthy"', 'kind="Pod"'], line: '' },
  imagePull: { matchers: ['type="Warning"', 'kind="Pod"', `reason=~"${IMAGE_PULL_REASONS}"`], line: '|~ "(?i)image"' },
  nodeNotReady: { matchers: ['kind="Node"', 'reason="NodeNotReady"'], line: '' },
} as const satisfies Record<string, Family>;

/** Further families of the nodes dashboard and the rules. */
export const MORE_FAMILIES = {
  nodePressure: { matchers: ['kind="Node"', 'reason=~"NodeHasDiskPressure|NodeHasInsufficientMemory|NodeHasInsufficientPID|EvictionThresholdMet"'], line: '' },
  preempted: { matchers: ['kind="Pod"', 'reason="Preempted"'], line: '' },
  rebooted: { matchers: ['kind="Node"', 'reason="Rebooted"'], line: '' },
  gcFailures: { matchers: ['reason=~"ImageGCFailed|ContainerGCFailed|FreeDiskSpaceFailed"'], line: '' },
  cannotCreatePods: { matchers: ['type="Warning"', 'reason=~"FailedCreate|BackoffLimitExceeded|DeadlineExceeded"'], line: '' },
  scheduled: { matchers: ['kind="Pod"', 'reason="Scheduled"'], line: '' },
} as const satisfies Record<string, Family>;

/** The job label the shipper writes by default (`--static-labels` merges over it). */
export const DEFAULT_JOB = 'kube-event-shipper';

/**
 * Occurrences an entry adds: the structured metadata `occurrences` (the event's count minus the
 * count last shipped for it). Entries written before the shipper attached it count as one each,
 * i.e. as one update, a lower bound.
 */
export const OCCURRENCES_FIELD = '| label_format occurrences=`{{ or .occurrences "1" }}`';

/** `sum_over_time` of the occurrences of `stream` (a selector and line filters) over `range`. */
export function sumOccurrences(stream: string, range: string): string {
  return `sum_over_time(${stream} ${OCCURRENCES_FIELD} | unwrap occurrences | __error__="" [${range}])`;
}
