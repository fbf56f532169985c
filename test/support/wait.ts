/** Waiting on real time, for tests that cannot drive the code with the manual clock: conditions, not durations. */
import assert from 'node:assert/strict';

/** Resolves after `ms` of real time. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `cond` every `pollMs` until it holds; fails (bounded) after `timeoutMs`, naming `what`. */
export async function until(cond: () => boolean | Promise<boolean>, what = 'condition', timeoutMs = 5_000, pollMs = 5): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(pollMs);
  }
}

/** Polls `<baseUrl>/readyz` until it answers `status` with a body matching `body`; fails with the last answer. */
export async function waitForReadyz(baseUrl: string, expected: { status: number; body: RegExp }, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(`${baseUrl}/readyz`);
    const text = await res.text();
    if (res.status === expected.status && expected.body.test(text)) return;
    if (Date.now() > deadline) assert.fail(`/readyz never answered ${expected.status} ${String(expected.body)}; last: ${res.status} ${text}`);
    await sleep(20);
  }
}
