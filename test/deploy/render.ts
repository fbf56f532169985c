/** Renders the kustomize overlays in `deploy/` with the real `kubectl kustomize`. */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { repoRoot } from '../support/fixtures.js';

export const deployRoot = resolve(repoRoot, 'deploy');

/** Every kustomization a user may apply, relative to `deploy/`. */
export const KUSTOMIZATIONS = ['base', 'overlays/ha', 'overlays/multi-tenant', 'overlays/servicemonitor', 'overlays/production'] as const;

export interface KubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly labels?: Record<string, string> };
  readonly [field: string]: unknown;
}

const KUBECTL = process.env['KUBECTL'] ?? 'kubectl';

/** Runs `kubectl kustomize` on one directory; rejects with kubectl's stderr when it fails. */
export function kustomize(relativeDir: string): Promise<KubeObject[]> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(KUBECTL, ['kustomize', resolve(deployRoot, relativeDir)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', (err) => reject(new Error(`cannot run ${KUBECTL}: ${err.message}`)));
    child.on('close', (code) => {
      if (code !== 0) {
        reject(new Error(`kubectl kustomize ${relativeDir} exited ${String(code)}: ${stderr.trim()}`));
        return;
      }
      try {
        resolvePromise(parseDocuments(stdout));
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  });
}

function parseDocuments(text: string): KubeObject[] {
  return parseAllDocuments(text).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`rendered YAML does not parse: ${doc.errors[0]?.message ?? ''}`);
    const value = doc.toJS() as unknown;
    if (!isKubeObject(value)) throw new Error(`rendered document is not a Kubernetes object: ${JSON.stringify(value)}`);
    return value;
  });
}

function isKubeObject(value: unknown): value is KubeObject {
  if (typeof value !== 'object' || value === null) return false;
  const { apiVersion, kind, metadata } = value as Record<string, unknown>;
  return typeof apiVersion === 'string' && typeof kind === 'string' && typeof metadata === 'object' && metadata !== null;
}

export function ofKind<T extends KubeObject = KubeObject>(objects: readonly KubeObject[], kind: string): T[] {
  return objects.filter((o) => o.kind === kind) as T[];
}

export function onlyOne<T extends KubeObject = KubeObject>(objects: readonly KubeObject[], kind: string): T {
  const found = ofKind<T>(objects, kind);
  if (found.length !== 1) throw new Error(`expected exactly one ${kind}, found ${String(found.length)}`);
  return found[0] as T;
}

// The parts of the workload objects the tests read.
export interface PolicyRule {
  readonly apiGroups?: string[];
  readonly resources?: string[];
  readonly resourceNames?: string[];
  readonly verbs: string[];
  readonly nonResourceURLs?: string[];
}
export interface RoleObject extends KubeObject {
  readonly rules: PolicyRule[];
}
export interface BindingObject extends KubeObject {
  readonly roleRef: { readonly kind: string; readonly name: string };
  readonly subjects: { readonly kind: string; readonly name: string; readonly namespace?: string }[];
}
export interface Probe {
  readonly httpGet?: { readonly path: string; readonly port: number | string };
}
export interface EnvVar {
  readonly name: string;
  readonly value?: string;
  readonly valueFrom?: {
    readonly secretKeyRef?: { readonly name: string; readonly key: string; readonly optional?: boolean };
    readonly configMapKeyRef?: { readonly name: string; readonly key: string };
  };
}
export interface Container {
  readonly name: string;
  readonly image: string;
  readonly args?: string[];
  readonly command?: string[];
  readonly env?: EnvVar[];
  readonly ports?: { readonly name?: string; readonly containerPort: number }[];
  readonly livenessProbe?: Probe;
  readonly readinessProbe?: Probe;
  readonly startupProbe?: Probe;
  readonly resources?: { readonly requests?: Record<string, string>; readonly limits?: Record<string, string> };
  readonly securityContext?: {
    readonly allowPrivilegeEscalation?: boolean;
    readonly readOnlyRootFilesystem?: boolean;
    readonly runAsNonRoot?: boolean;
    readonly privileged?: boolean;
    readonly capabilities?: { readonly drop?: string[]; readonly add?: string[] };
  };
  readonly volumeMounts?: { readonly name: string; readonly mountPath: string; readonly readOnly?: boolean }[];
}
export interface PodSpec {
  readonly serviceAccountName?: string;
  readonly hostNetwork?: boolean;
  readonly hostPID?: boolean;
  readonly securityContext?: {
    readonly runAsNonRoot?: boolean;
    readonly runAsUser?: number;
    readonly seccompProfile?: { readonly type: string };
  };
  readonly containers: Container[];
  readonly volumes?: { readonly name: string; readonly configMap?: { readonly name: string }; readonly secret?: { readonly secretName: string }; readonly hostPath?: unknown }[];
}
export interface DeploymentObject extends KubeObject {
  readonly spec: {
    readonly replicas?: number;
    readonly selector: { readonly matchLabels: Record<string, string> };
    readonly template: { readonly metadata: { readonly labels: Record<string, string> }; readonly spec: PodSpec };
  };
}
export interface ServiceObject extends KubeObject {
  readonly spec: { readonly selector: Record<string, string>; readonly ports: { readonly name?: string; readonly port: number; readonly targetPort?: number | string }[] };
}
export interface ConfigMapObject extends KubeObject {
  readonly data?: Record<string, string>;
}
