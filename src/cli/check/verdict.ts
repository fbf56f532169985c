/** One line of `check`'s answer: an item, its status and why. Shared by every check item. */

export type VerdictStatus = 'ok' | 'FAIL' | 'skip';

export interface CheckVerdict {
  readonly item: string;
  readonly status: VerdictStatus;
  readonly detail: string;
}

export function formatVerdict(v: CheckVerdict): string {
  return `${v.status.padEnd(4)}  ${v.item.padEnd(18)}  ${v.detail}`;
}
