/**
 * A checkpoint in a ConfigMap (default in-cluster: any replica or a new leader resumes from it).
 * Every write is conditional (optimistic concurrency): created when missing (409 if someone created
 * it meanwhile), else replaced with the resourceVersion we read or last wrote. A 409 Conflict means
 * another writer — a new leader — wrote since: nothing is overwritten (CheckpointConflictError);
 * the current resourceVersion is read for the next save, which happens only while this replica
 * still holds its term (see src/ha/term-checkpoint.ts). A ConfigMap of the same name that is not
 * ours is never overwritten.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { kubeRequest, statusMessage } from '../kube/request.js';
import { CheckpointConflictError, CheckpointForeignError, CheckpointReadError, CheckpointWriteError } from './errors.js';
import { parseCheckpoint, serializeCheckpoint } from './record.js';
import type { CheckpointRecord, CheckpointStore, LoadResult } from './record.js';

export const CHECKPOINT_KEY = 'checkpoint.json';
const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'kube-event-shipper' } as const;

export interface ConfigMapStoreOptions {
  readonly namespace: string;
  readonly name: string;
  readonly timeoutMs?: number;
}

interface ConfigMapLike {
  readonly resourceVersion: string | undefined;
  readonly labels: Readonly<Record<string, unknown>>;
  readonly data: Readonly<Record<string, unknown>>;
}

function record(v: unknown): Readonly<Record<string, unknown>> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

/** The few fields we read from an API answer, each checked: the body is whatever the server sent. */
function configMapOf(body: unknown): ConfigMapLike {
  const metadata = record(record(body)['metadata']);
  const rv = metadata['resourceVersion'];
  return { resourceVersion: typeof rv === 'string' ? rv : undefined, labels: record(metadata['labels']), data: record(record(body)['data']) };
}

export function createConfigMapCheckpointStore(options: ConfigMapStoreOptions, deps: { readonly kubeConfig: KubeConfig }): CheckpointStore {
  const { namespace, name } = options;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const collection = `/api/v1/namespaces/${encodeURIComponent(namespace)}/configmaps`;
  const item = `${collection}/${encodeURIComponent(name)}`;
  let lastResourceVersion: string | undefined;

  const get = async (): Promise<ConfigMapLike | undefined> => {
    let res;
    try {
      res = await kubeRequest(deps.kubeConfig, item, { timeoutMs });
    } catch (err) {
      throw new CheckpointReadError(`cannot read configmap ${namespace}/${name}`, { cause: err });
    }
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw new CheckpointReadError(`cannot read configmap ${namespace}/${name}: HTTP ${res.status} ${statusMessage(res.body) ?? ''}`.trim());
    return configMapOf(res.body);
  };
  const isOurs = (cm: ConfigMapLike): boolean =>
    cm.labels['app.kubernetes.io/managed-by'] === 'kube-event-shipper' || Object.keys(cm.data).length === 0;

  const write = async (method: 'POST' | 'PUT', text: string, resourceVersion: string | undefined): Promise<number> => {
    const body = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name, namespace, labels: MANAGED_BY, ...(resourceVersion !== undefined ? { resourceVersion } : {}) },
      data: { [CHECKPOINT_KEY]: text },
    };
    let res;
    try {
      res = await kubeRequest(deps.kubeConfig, method === 'POST' ? collection : item, { method, body, timeoutMs });
    } catch (err) {
      throw new CheckpointWriteError(`cannot write configmap ${namespace}/${name}`, { cause: err });
    }
    if (res.status === 200 || res.status === 201) lastResourceVersion = configMapOf(res.body).resourceVersion;
    else if (res.status !== 409 && res.status !== 404) {
      throw new CheckpointWriteError(`cannot write configmap ${namespace}/${name}: HTTP ${res.status} ${statusMessage(res.body) ?? ''}`.trim());
    }
    return res.status;
  };

  return {
    description: `configmap ${namespace}/${name}`,
    async load(): Promise<LoadResult> {
      const cm = await get();
      if (!cm) return { kind: 'missing' };
      // Remember where to write only if it is ours: a foreign ConfigMap is never replaced.
      if (isOurs(cm)) lastResourceVersion = cm.resourceVersion;
      const text = cm.data[CHECKPOINT_KEY];
      if (text === undefined) return { kind: 'invalid', reason: `configmap has no ${CHECKPOINT_KEY} key` };
      if (typeof text !== 'string') return { kind: 'invalid', reason: `configmap ${CHECKPOINT_KEY} is not a string` };
      return parseCheckpoint(text);
    },
    async save(record: CheckpointRecord): Promise<void> {
      const text = serializeCheckpoint(record);
      let status = lastResourceVersion === undefined ? await write('POST', text, undefined) : await write('PUT', text, lastResourceVersion);
      // Deleted since (404): creating it again overwrites nothing.
      if (status === 404) status = await write('POST', text, undefined);
      if (status === 200 || status === 201) return;
      // 409: modified, or created by someone else. Learn where it stands now for the next save.
      const cm = await get().catch((err: unknown) => {
        throw new CheckpointWriteError(`cannot write configmap ${namespace}/${name}`, { cause: err });
      });
      if (cm && !isOurs(cm)) throw new CheckpointForeignError(`configmap ${namespace}/${name} exists and is not a kube-event-shipper checkpoint`);
      lastResourceVersion = cm?.resourceVersion;
      throw new CheckpointConflictError(`configmap ${namespace}/${name} was changed by another writer since we read it (409 Conflict); not overwritten`);
    },
  };
}
