/**
 * Why its own module: the `coordination.k8s.io/v1` Lease object's shape and the pure rules for
 * reading and writing it, apart from the election's state machine (leader-election.ts).
 */

export interface LeaseSpec {
  holderIdentity?: string | null;
  leaseDurationSeconds?: number | null;
  acquireTime?: string | null;
  renewTime?: string | null;
  leaseTransitions?: number | null;
}

export interface Lease {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; resourceVersion?: string; [k: string]: unknown };
  spec?: LeaseSpec;
}

/** Kubernetes MicroTime: RFC 3339 with exactly six fractional digits. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export function isLease(value: unknown): value is Lease {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'Lease';
}

/** The spec to write for `identity` at `now`, keeping the acquire time and transitions of a term it already holds. */
export function leaseSpecFor(identity: string, leaseDurationMs: number, previous: LeaseSpec | undefined, now: number): LeaseSpec {
  const holdsAlready = previous?.holderIdentity === identity;
  return {
    holderIdentity: identity,
    leaseDurationSeconds: Math.max(1, Math.ceil(leaseDurationMs / 1000)),
    acquireTime: holdsAlready && previous?.acquireTime ? previous.acquireTime : microTime(now),
    renewTime: microTime(now),
    leaseTransitions: (previous?.leaseTransitions ?? 0) + (holdsAlready ? 0 : 1),
  };
}

/** What identifies one version of the record: a change of it restarts the expiry count. */
export function recordKey(lease: Lease): string {
  const spec = lease.spec ?? {};
  return JSON.stringify([spec.holderIdentity ?? '', spec.renewTime ?? '', spec.leaseTransitions ?? 0, spec.acquireTime ?? '']);
}
