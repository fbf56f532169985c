import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import {
  KUSTOMIZATIONS,
  deployRoot,
  kustomize,
  ofKind,
  onlyOne,
  type BindingObject,
  type ConfigMapObject,
  type Container,
  type DeploymentObject,
  type KubeObject,
  type RoleObject,
  type ServiceObject,
} from './render.js';

const LISTEN_PORT = 8080;
/** The Loki credentials Secret: created by the user, never rendered by our kustomizations. */
const CREDENTIALS_SECRET = 'kube-event-shipper-loki';
const rendered = new Map<string, Promise<KubeObject[]>>();
/** Each kustomization is rendered once and shared by its tests. */
function render(dir: string): Promise<KubeObject[]> {
  let objects = rendered.get(dir);
  if (objects === undefined) {
    objects = kustomize(dir);
    rendered.set(dir, objects);
  }
  return objects;
}

function secretRef(container: Container, env: string): { name: string; key: string; optional?: boolean } | undefined {
  return container.env?.find((e) => e.name === env)?.valueFrom?.secretKeyRef;
}

function shipperContainer(deployment: DeploymentObject): Container {
  const containers = deployment.spec.template.spec.containers;
  assert.equal(containers.length, 1, 'one container in the shipper pod');
  return containers[0] as Container;
}

/** `--name=value` arguments of the `run` command as a map (a bare `--name` counts as "true"). */
export function runFlags(container: Container): Map<string, string> {
  const args = container.args ?? [];
  assert.equal(args[0], 'run', 'the container runs the `run` command');
  const flags = new Map<string, string>();
  for (const arg of args.slice(1)) {
    const match = /^--([a-z][a-z0-9-]*)(?:=(.*))?$/s.exec(arg);
    assert.ok(match, `argument ${arg} is a --flag=value`);
    const [, name = '', value = 'true'] = match;
    assert.ok(!flags.has(name), `--${name} is given once`);
    flags.set(name, value);
  }
  return flags;
}

for (const dir of KUSTOMIZATIONS) {
  describe(`deploy/${dir}`, () => {
    it('renders with kubectl kustomize', async () => {
      const objects = await render(dir);
      for (const kind of ['Namespace', 'ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Deployment', 'Service', 'ConfigMap']) {
        assert.ok(ofKind(objects, kind).length >= 1, `renders a ${kind}`);
      }
    });

    it('renders no Secret, so applying it never merges away the credentials the user created', async () => {
      assert.deepEqual(ofKind(await render(dir), 'Secret').map((s) => s.metadata.name), []);
    });

    it('lets the cluster role only get, list and watch events, in core and events.k8s.io', async () => {
      const objects = await render(dir);
      const clusterRoles = ofKind<RoleObject>(objects, 'ClusterRole');
      assert.equal(clusterRoles.length, 1);
      const groups = new Set<string>();
      for (const rule of clusterRoles[0]?.rules ?? []) {
        assert.deepEqual(rule.resources, ['events']);
        assert.equal(rule.nonResourceURLs, undefined);
        assert.equal(rule.resourceNames, undefined);
        for (const verb of rule.verbs) assert.ok(['get', 'list', 'watch'].includes(verb), `verb ${verb} is read-only`);
        assert.deepEqual([...rule.verbs].sort(), ['get', 'list', 'watch']);
        for (const group of rule.apiGroups ?? []) groups.add(group);
      }
      assert.deepEqual([...groups].sort(), ['', 'events.k8s.io']);
    });

    it('limits the namespaced roles to the checkpoint ConfigMap and the Lease, by name except for create', async () => {
      const objects = await render(dir);
      const deployment = onlyOne<DeploymentObject>(objects, 'Deployment');
      const flags = runFlags(shipperContainer(deployment));
      const namespace = deployment.metadata.namespace ?? '';
      const expand = (v: string | undefined): string | undefined => v?.replace('$(POD_NAMESPACE)', namespace);
      const checkpoint = expand(flags.get('checkpoint-configmap'));
      const lease = expand(flags.get('lease'));
      const allowed: Record<string, string | undefined> = { configmaps: checkpoint, leases: lease };
      const roles = ofKind<RoleObject>(objects, 'Role');
      assert.ok(roles.length >= 1);
      const granted = new Set<string>();
      for (const role of roles) {
        assert.equal(role.metadata.namespace, namespace, `role ${role.metadata.name} lives in the shipper's namespace`);
        for (const rule of role.rules) {
          for (const resource of rule.resources ?? []) {
            const target = allowed[resource];
            assert.ok(target !== undefined, `${resource} is granted only when the Deployment uses it`);
            assert.ok(!rule.verbs.includes('*') && !(rule.apiGroups ?? []).includes('*'));
            assert.ok(!rule.verbs.some((v) => ['delete', 'deletecollection', 'list', 'watch'].includes(v)), `no ${rule.verbs.join(',')} on ${resource}`);
            if (rule.resourceNames === undefined) {
              assert.deepEqual(rule.verbs, ['create'], `only create goes without resourceNames on ${resource}`);
            } else {
              assert.deepEqual(rule.resourceNames, [target.split('/')[1]], `${resource} rules name the object the flags point at`);
            }
            for (const verb of rule.verbs) granted.add(`${resource}:${verb}`);
          }
        }
      }
      for (const [resource, target] of Object.entries(allowed)) {
        if (target === undefined) continue;
        assert.equal(target.split('/')[0], namespace, `the ${resource} object is in the shipper's namespace`);
        for (const verb of ['get', 'create', 'update']) assert.ok(granted.has(`${resource}:${verb}`), `may ${verb} its ${resource}`);
      }
    });

    it('binds every role to the shipper service account and nothing else', async () => {
      const objects = await render(dir);
      const deployment = onlyOne<DeploymentObject>(objects, 'Deployment');
      const account = onlyOne(objects, 'ServiceAccount');
      assert.equal(deployment.spec.template.spec.serviceAccountName, account.metadata.name);
      const bindings = [...ofKind<BindingObject>(objects, 'ClusterRoleBinding'), ...ofKind<BindingObject>(objects, 'RoleBinding')];
      assert.ok(bindings.length >= 2);
      for (const binding of bindings) {
        const roleKind = binding.kind === 'ClusterRoleBinding' ? 'ClusterRole' : binding.roleRef.kind;
        assert.ok(ofKind(objects, roleKind).some((r) => r.metadata.name === binding.roleRef.name), `${binding.metadata.name} refers to a rendered ${roleKind}`);
        assert.deepEqual(
          binding.subjects.map((s) => [s.kind, s.name, s.namespace ?? binding.metadata.namespace]),
          [['ServiceAccount', account.metadata.name, account.metadata.namespace]],
        );
      }
    });

    it('runs the pod under the restricted security profile', async () => {
      const deployment = onlyOne<DeploymentObject>(await render(dir), 'Deployment');
      const pod = deployment.spec.template.spec;
      assert.equal(pod.securityContext?.runAsNonRoot, true);
      assert.ok((pod.securityContext?.runAsUser ?? 0) > 0, 'a non-zero uid');
      assert.equal(pod.securityContext?.seccompProfile?.type, 'RuntimeDefault');
      assert.notEqual(pod.hostNetwork, true);
      assert.notEqual(pod.hostPID, true);
      assert.ok((pod.volumes ?? []).every((v) => v.hostPath === undefined), 'no hostPath volume');
      const context = shipperContainer(deployment).securityContext;
      assert.equal(context?.allowPrivilegeEscalation, false);
      assert.equal(context?.readOnlyRootFilesystem, true);
      assert.notEqual(context?.privileged, true);
      assert.deepEqual(context?.capabilities?.drop, ['ALL']);
      assert.equal(context?.capabilities?.add, undefined);
    });

    it('probes /healthz and /readyz on the port the shipper listens on', async () => {
      const deployment = onlyOne<DeploymentObject>(await render(dir), 'Deployment');
      const container = shipperContainer(deployment);
      assert.equal(runFlags(container).get('listen'), `:${String(LISTEN_PORT)}`);
      const portOf = (port: number | string | undefined): number | undefined =>
        typeof port === 'number' ? port : container.ports?.find((p) => p.name === port)?.containerPort;
      assert.equal(container.livenessProbe?.httpGet?.path, '/healthz');
      assert.equal(portOf(container.livenessProbe?.httpGet?.port), LISTEN_PORT);
      assert.equal(container.readinessProbe?.httpGet?.path, '/readyz');
      assert.equal(portOf(container.readinessProbe?.httpGet?.port), LISTEN_PORT);
      if (container.startupProbe !== undefined) assert.equal(portOf(container.startupProbe.httpGet?.port), LISTEN_PORT);
    });

    it('sets cpu and memory requests and a memory limit above the request', async () => {
      const { resources } = shipperContainer(onlyOne<DeploymentObject>(await render(dir), 'Deployment'));
      for (const key of ['cpu', 'memory']) {
        assert.ok(resources?.requests?.[key], `requests.${key}`);
        assert.ok(resources?.limits?.[key], `limits.${key}`);
      }
      const mebibytes = (q: string | undefined): number => Number(/^(\d+)Mi$/.exec(q ?? '')?.[1] ?? NaN);
      assert.ok(mebibytes(resources?.limits?.['memory']) > mebibytes(resources?.requests?.['memory']));
    });

    it('refers only to objects it renders, apart from the credentials Secret: config, service selector and port', async () => {
      const objects = await render(dir);
      const deployment = onlyOne<DeploymentObject>(objects, 'Deployment');
      const container = shipperContainer(deployment);
      const configMaps = ofKind<ConfigMapObject>(objects, 'ConfigMap').map((c) => c.metadata.name);
      for (const volume of deployment.spec.template.spec.volumes ?? []) {
        if (volume.configMap) assert.ok(configMaps.includes(volume.configMap.name), `ConfigMap ${volume.configMap.name} is rendered`);
      }
      for (const env of container.env ?? []) {
        const ref = env.valueFrom?.secretKeyRef;
        if (ref) assert.equal(ref.name, CREDENTIALS_SECRET, `${env.name} reads only the user's credentials Secret`);
      }
      for (const volume of deployment.spec.template.spec.volumes ?? []) assert.equal(volume.secret, undefined, 'no Secret volume');
      const configPath = runFlags(container).get('config') ?? '';
      const mount = container.volumeMounts?.find((m) => configPath.startsWith(`${m.mountPath}/`));
      assert.ok(mount, `--config=${configPath} is on a mounted volume`);
      const file = configPath.slice(mount.mountPath.length + 1);
      const volume = deployment.spec.template.spec.volumes?.find((v) => v.name === mount.name);
      const configMap = ofKind<ConfigMapObject>(objects, 'ConfigMap').find((c) => c.metadata.name === volume?.configMap?.name);
      assert.ok(configMap?.data?.[file], `the mounted ConfigMap holds ${file}`);
      assert.equal(typeof parseYaml(configMap.data[file]), 'object');

      const labels = deployment.spec.template.metadata.labels;
      for (const [k, v] of Object.entries(deployment.spec.selector.matchLabels)) assert.equal(labels[k], v);
      const service = onlyOne<ServiceObject>(objects, 'Service');
      for (const [k, v] of Object.entries(service.spec.selector)) assert.equal(labels[k], v, `the Service selects the pod by ${k}`);
      const ports = service.spec.ports.map((p) => p.targetPort);
      assert.ok(ports.some((p) => p === LISTEN_PORT || container.ports?.some((c) => c.name === p && c.containerPort === LISTEN_PORT)));
    });

    it('keeps every namespaced object in the shipper namespace', async () => {
      const objects = await render(dir);
      const namespace = onlyOne(objects, 'Namespace').metadata.name;
      for (const object of objects) {
        if (['Namespace', 'ClusterRole', 'ClusterRoleBinding'].includes(object.kind)) continue;
        assert.equal(object.metadata.namespace, namespace, `${object.kind}/${object.metadata.name}`);
      }
    });
  });
}

describe('overlays', () => {
  it('base runs one replica without leader election', async () => {
    const deployment = onlyOne<DeploymentObject>(await render('base'), 'Deployment');
    assert.equal(deployment.spec.replicas, 1);
    assert.equal(runFlags(shipperContainer(deployment)).has('leader-elect'), false);
  });

  it('ha runs two replicas with leader election on a Lease the pods may renew', async () => {
    const objects = await render('overlays/ha');
    const deployment = onlyOne<DeploymentObject>(objects, 'Deployment');
    assert.equal(deployment.spec.replicas, 2);
    const flags = runFlags(shipperContainer(deployment));
    assert.equal(flags.get('leader-elect'), 'true');
    assert.match(flags.get('lease') ?? '', /^\$\(POD_NAMESPACE\)\/[a-z0-9-]+$/);
    assert.equal(flags.get('identity'), '$(POD_NAME)');
    assert.ok(ofKind(objects, 'PodDisruptionBudget').length === 1);
  });

  it('base reads basic auth credentials from the Secret when it exists, and runs without it', async () => {
    const container = shipperContainer(onlyOne<DeploymentObject>(await render('base'), 'Deployment'));
    for (const [name, key] of [['KES_LOKI_USERNAME', 'username'], ['KES_LOKI_PASSWORD', 'password']] as const) {
      const ref = secretRef(container, name);
      assert.deepEqual([ref?.name, ref?.key, ref?.optional], [CREDENTIALS_SECRET, key, true]);
    }
  });

  it('multi-tenant sends a tenant and requires basic auth credentials from the Secret', async () => {
    const objects = await render('overlays/multi-tenant');
    const container = shipperContainer(onlyOne<DeploymentObject>(objects, 'Deployment'));
    assert.ok((runFlags(container).get('tenant') ?? '') !== '');
    for (const [name, key] of [['KES_LOKI_USERNAME', 'username'], ['KES_LOKI_PASSWORD', 'password']] as const) {
      const ref = secretRef(container, name);
      assert.deepEqual([ref?.name, ref?.key, ref?.optional], [CREDENTIALS_SECRET, key, false], `${name} is required`);
    }
  });

  it("a user's overlay may generate the credentials Secret, and the Deployment follows its hashed name", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kes-overlay-'));
    try {
      const kustomization = [
        'apiVersion: kustomize.config.k8s.io/v1beta1',
        'kind: Kustomization',
        'namespace: kube-event-shipper',
        'resources:',
        `  - ${relative(dir, join(deployRoot, 'overlays', 'multi-tenant'))}`,
        'secretGenerator:',
        `  - name: ${CREDENTIALS_SECRET}`,
        '    literals: [username=team-a, password=s3cret]',
        '',
      ].join('\n');
      await writeFile(join(dir, 'kustomization.yaml'), kustomization);
      const objects = await kustomize(dir);
      const secret = onlyOne(objects, 'Secret');
      assert.match(secret.metadata.name, new RegExp(`^${CREDENTIALS_SECRET}-[a-z0-9]+$`));
      const container = shipperContainer(onlyOne<DeploymentObject>(objects, 'Deployment'));
      assert.equal(secretRef(container, 'KES_LOKI_USERNAME')?.name, secret.metadata.name);
      assert.equal(secretRef(container, 'KES_LOKI_PASSWORD')?.name, secret.metadata.name);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('production combines leader election and the ServiceMonitor', async () => {
    const objects = await render('overlays/production');
    const deployment = onlyOne<DeploymentObject>(objects, 'Deployment');
    assert.equal(deployment.spec.replicas, 2);
    assert.equal(runFlags(shipperContainer(deployment)).get('leader-elect'), 'true');
    assert.equal(ofKind(objects, 'ServiceMonitor').length, 1);
  });

  for (const dir of ['overlays/servicemonitor', 'overlays/production']) {
    it(`${dir} scrapes /metrics through the Service port`, async () => {
      const objects = await render(dir);
      const monitor = onlyOne<KubeObject & { spec: { selector: { matchLabels: Record<string, string> }; endpoints: { port: string; path: string }[] } }>(objects, 'ServiceMonitor');
      const service = onlyOne<ServiceObject>(objects, 'Service');
      for (const [k, v] of Object.entries(monitor.spec.selector.matchLabels)) assert.equal(service.metadata.labels?.[k], v);
      const serviceMonitorPort = monitor.spec.endpoints[0];
      assert.equal(serviceMonitorPort?.path, '/metrics');
      assert.ok(service.spec.ports.some((p) => p.name === serviceMonitorPort.port));
    });
  }
});
