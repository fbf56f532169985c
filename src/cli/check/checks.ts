/**
 * The items of `check`: one verdict line per item — configuration, API server reachable, may list and watch
 * events (SelfSubjectAccessReview per verb, for the configured API group and namespaces), may use
 * the checkpoint ConfigMap and the Lease when configured, the checkpoint file when configured, a real one-item list with the configured
 * field selector (which only the server can validate), Loki `/ready`, and Loki accepting a push.
 * Nothing here prints a secret: verdicts name URLs and statuses only.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { Config } from '../../config/index.js';
import type { LokiProbeResult } from '../../sink/loki/index.js';
import { createKubeRequest, KubeUnreachableError, statusMessage, type KubeRequest } from '../../kube/request.js';
import { fieldSelectorFor } from '../../source/index.js';
import { checkCheckpointFile } from './checkpoint-file.js';
import type { CheckVerdict } from './verdict.js';

export interface CheckDeps {
  /** Throws ConfigError for a bad kubeconfig; that becomes a FAIL line, not an exit 2. */
  readonly loadKubeConfig: () => KubeConfig;
  /** Asks Loki's `/ready` with the sink's own options (auth, tenant, TLS, timeout): the sink's `probeLoki`. */
  readonly probeLoki: () => Promise<LokiProbeResult>;
  /** Pushes one harmless entry; resolves with what happened. */
  readonly pushProbe: () => Promise<{ readonly ok: boolean; readonly detail: string }>;
  readonly timeoutMs: number;
}

/** The most telling part of an error: a system code (ECONNREFUSED) from its cause chain, else the deepest message. */
function reason(err: unknown): string {
  let current: unknown = err;
  let deepest = err instanceof Error ? err.message : String(err);
  for (let depth = 0; current instanceof Error && depth < 8; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z_]+$/.test(code) && code !== 'E_CONFIG' && !code.startsWith('E_K8S')) return code;
    deepest = current.message;
    current = current.cause;
  }
  return deepest.split('\n')[0] ?? 'error';
}

interface Access {
  readonly verb: string;
  readonly group: string;
  readonly resource: string;
  readonly namespace?: string;
  /** The object's name, for verbs a Role can grant by `resourceNames` (never for `create`). */
  readonly name?: string;
}

async function review(request: KubeRequest, access: Access, timeoutMs: number): Promise<{ allowed: boolean; status: number; why?: string }> {
  const res = await request('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
    timeoutMs,
    body: {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      spec: {
        resourceAttributes: {
          verb: access.verb,
          group: access.group,
          resource: access.resource,
          ...(access.namespace ? { namespace: access.namespace } : {}),
          ...(access.name ? { name: access.name } : {}),
        },
      },
    },
  });
  const status = (res.body as { status?: { allowed?: unknown; reason?: unknown } } | undefined)?.status;
  return {
    allowed: (res.status === 201 || res.status === 200) && status?.allowed === true,
    status: res.status,
    ...(typeof status?.reason === 'string' && status.reason !== '' ? { why: status.reason } : {}),
  };
}

function scopeText(namespace: string | undefined): string {
  return namespace ? `in namespace ${namespace}` : 'cluster-wide';
}

async function checkKubernetes(config: Config, deps: CheckDeps): Promise<CheckVerdict[]> {
  let kc: KubeConfig;
  try {
    kc = deps.loadKubeConfig();
  } catch (err) {
    return [{ item: 'kubernetes', status: 'FAIL', detail: err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err) }];
  }
  const server = kc.getCurrentCluster()?.server ?? '(none)';
  const request = createKubeRequest(kc);
  const group = config.api === 'core/v1' ? '' : 'events.k8s.io';
  const groupText = group === '' ? 'events (core/v1)' : 'events.k8s.io/v1 events';

  const wanted: { item: string; access: Access }[] = [];
  const namespaces: (string | undefined)[] = config.namespaces.length > 0 ? [...config.namespaces] : [undefined];
  for (const verb of ['list', 'watch']) {
    for (const namespace of namespaces) {
      wanted.push({ item: `${verb} events`, access: { verb, group, resource: 'events', ...(namespace ? { namespace } : {}) } });
    }
  }
  // get and update name the object, as a Role granting them by resourceNames requires; create
  // cannot (the name is not known at authorisation time), so it asks without one.
  const named = (verb: string, name: string): { name?: string } => (verb === 'create' ? {} : { name });
  if (config.checkpointConfigmap) {
    const { namespace, name } = config.checkpointConfigmap;
    for (const verb of ['get', 'create', 'update']) {
      wanted.push({ item: `${verb} checkpoint`, access: { verb, group: '', resource: 'configmaps', namespace, ...named(verb, name) } });
    }
  }
  if (config.leaderElect && config.lease) {
    const { namespace, name } = config.lease;
    for (const verb of ['get', 'create', 'update']) {
      wanted.push({ item: `${verb} lease`, access: { verb, group: 'coordination.k8s.io', resource: 'leases', namespace, ...named(verb, name) } });
    }
  }

  const verdicts: CheckVerdict[] = [];
  for (const [index, { item, access }] of wanted.entries()) {
    let answer;
    try {
      answer = await review(request, access, deps.timeoutMs);
    } catch (err) {
      const why = err instanceof KubeUnreachableError && err.cause !== undefined ? reason(err.cause) : reason(err);
      return [{ item: 'kubernetes', status: 'FAIL', detail: `cannot reach the API server at ${server}: ${why}` }];
    }
    if (answer.status === 401) return [{ item: 'kubernetes', status: 'FAIL', detail: `the API server at ${server} rejected the credentials (401 Unauthorized)` }];
    if (index === 0) verdicts.push({ item: 'kubernetes', status: 'ok', detail: `API server at ${server} reachable` });
    const what = access.resource === 'events' ? groupText : access.resource === 'leases' ? `Lease ${config.lease?.name ?? ''}` : `ConfigMap ${config.checkpointConfigmap?.name ?? ''}`;
    if (answer.status !== 201 && answer.status !== 200) {
      verdicts.push({ item, status: 'FAIL', detail: `cannot ask whether it may ${access.verb} ${what} ${scopeText(access.namespace)}: HTTP ${answer.status}` });
    } else if (answer.allowed) {
      verdicts.push({ item, status: 'ok', detail: `may ${access.verb} ${what} ${scopeText(access.namespace)}` });
    } else {
      verdicts.push({ item, status: 'FAIL', detail: `forbidden: may not ${access.verb} ${what} ${scopeText(access.namespace)}${answer.why ? ` (${answer.why})` : ''}` });
    }
  }
  verdicts.push(...(await readEvents(config, request, deps.timeoutMs, groupText)));
  return verdicts;
}

/**
 * Lists one event the way `run` does (`limit=1`, same field selector, per namespace): an access
 * review cannot tell that the server refuses a field selector, which would make `run` retry forever.
 */
async function readEvents(config: Config, request: KubeRequest, timeoutMs: number, groupText: string): Promise<CheckVerdict[]> {
  const base = config.api === 'core/v1' ? '/api/v1' : '/apis/events.k8s.io/v1';
  const fieldSelector = fieldSelectorFor(config);
  const namespaces: (string | undefined)[] = config.namespaces.length > 0 ? [...config.namespaces] : [undefined];
  const verdicts: CheckVerdict[] = [];
  for (const namespace of namespaces) {
    const query = new URLSearchParams({ limit: '1' });
    if (fieldSelector !== undefined) query.set('fieldSelector', fieldSelector);
    const path = `${namespace === undefined ? base : `${base}/namespaces/${encodeURIComponent(namespace)}`}/events?${query.toString()}`;
    const what = `list ${groupText} ${scopeText(namespace)}${fieldSelector !== undefined ? ` with field selector ${fieldSelector}` : ''}`;
    let status: number;
    let body: unknown;
    try {
      ({ status, body } = await request('GET', path, { timeoutMs }));
    } catch (err) {
      const why = err instanceof KubeUnreachableError && err.cause !== undefined ? reason(err.cause) : reason(err);
      verdicts.push({ item: 'read events', status: 'FAIL', detail: `cannot ${what}: ${why}` });
      continue;
    }
    if (status === 200) {
      verdicts.push({ item: 'read events', status: 'ok', detail: `${what}: 200` });
    } else {
      const message = statusMessage(body)?.split('\n')[0];
      verdicts.push({ item: 'read events', status: 'FAIL', detail: `${what}: HTTP ${status}${message ? `: ${message}` : ''}` });
    }
  }
  return verdicts;
}

async function checkLoki(config: Config, deps: CheckDeps): Promise<CheckVerdict[]> {
  if (config.lokiUrl === undefined) {
    return [{ item: 'loki', status: 'skip', detail: 'no --loki-url: lines would go to stdout' }];
  }
  const readyUrl = `${config.lokiUrl.replace(/\/+$/, '')}/ready`;
  const probe = await deps.probeLoki();
  if (probe.kind === 'unreachable') {
    return [{ item: 'loki ready', status: 'FAIL', detail: `cannot reach ${readyUrl}: ${probe.detail.split('\n')[0] ?? 'error'}` }];
  }
  if (probe.kind === 'not_ready') {
    const body = probe.body.trim().split('\n')[0]?.slice(0, 120) ?? '';
    return [{ item: 'loki ready', status: 'FAIL', detail: `${readyUrl} answered ${probe.statusCode}${body ? `: ${body}` : ''}` }];
  }
  const verdicts: CheckVerdict[] = [{ item: 'loki ready', status: 'ok', detail: `${readyUrl} answered 200` }];
  const pushed = await deps.pushProbe();
  verdicts.push({ item: 'loki push', status: pushed.ok ? 'ok' : 'FAIL', detail: pushed.detail });
  return verdicts;
}

export async function runChecks(config: Config, deps: CheckDeps): Promise<CheckVerdict[]> {
  const verdicts: CheckVerdict[] = [{ item: 'config', status: 'ok', detail: 'valid' }];
  if (config.checkpointFile !== undefined) verdicts.push(await checkCheckpointFile(config.checkpointFile));
  verdicts.push(...(await checkKubernetes(config, deps)));
  verdicts.push(...(await checkLoki(config, deps)));
  return verdicts;
}
