/**
 * A minimal API server for Leases only (GET, POST, PUT with resourceVersion conflicts), speaking
 * real HTTP on 127.0.0.1 so the elector runs through `@kubernetes/client-node`'s auth path.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';

interface StoredLease {
  metadata: { name: string; namespace: string; resourceVersion: string };
  spec: Record<string, unknown>;
}

export interface FakeLeaseApi {
  readonly url: string;
  readonly leases: Map<string, StoredLease>;
  /** Answer every request with this status instead (e.g. 503), or undefined for normal service. */
  failWith: number | undefined;
  /** Every successful write, in order. */
  readonly writes: { method: string; holder: unknown; at: number }[];
  kubeConfig(): KubeConfig;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
}

export async function startFakeLeaseApi(): Promise<FakeLeaseApi> {
  let revision = 100;
  const api = {
    url: '',
    leases: new Map<string, StoredLease>(),
    failWith: undefined as number | undefined,
    writes: [] as { method: string; holder: unknown; at: number }[],
  };
  const server: Server = createServer((req, res) => {
    const send = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    const status = (code: number, reason: string): void =>
      send(code, { apiVersion: 'v1', kind: 'Status', status: 'Failure', reason, code });
    if (api.failWith !== undefined) {
      req.resume();
      status(api.failWith, 'InternalError');
      return;
    }
    const match = /^\/apis\/coordination\.k8s\.io\/v1\/namespaces\/([^/]+)\/leases(?:\/([^/?]+))?/.exec(req.url ?? '');
    if (!match) {
      req.resume();
      status(404, 'NotFound');
      return;
    }
    const namespace = match[1] ?? '';
    const name = match[2];
    void (async () => {
      if (req.method === 'GET' && name) {
        const lease = api.leases.get(`${namespace}/${name}`);
        if (lease) send(200, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', ...lease });
        else status(404, 'NotFound');
        return;
      }
      const body = (await readBody(req)) as StoredLease;
      const key = `${namespace}/${name ?? body.metadata.name}`;
      const existing = api.leases.get(key);
      if (req.method === 'POST' && !name) {
        if (existing) return status(409, 'AlreadyExists');
      } else if (req.method === 'PUT' && name) {
        if (!existing) return status(404, 'NotFound');
        if (body.metadata.resourceVersion !== existing.metadata.resourceVersion) return status(409, 'Conflict');
      } else {
        return status(405, 'MethodNotAllowed');
      }
      revision += 1;
      const stored: StoredLease = {
        metadata: { name: body.metadata.name, namespace, resourceVersion: String(revision) },
        spec: body.spec,
      };
      api.leases.set(key, stored);
      api.writes.push({ method: req.method, holder: body.spec['holderIdentity'], at: Date.now() });
      send(req.method === 'POST' ? 201 : 200, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', ...stored });
    })().catch(() => status(400, 'BadRequest'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return Object.assign(api, {
    url,
    kubeConfig(): KubeConfig {
      const kc = new KubeConfig();
      kc.loadFromOptions({
        clusters: [{ name: 'fake', server: url, skipTLSVerify: true }],
        users: [{ name: 'fake', token: 'fake-token' }],
        contexts: [{ name: 'fake', cluster: 'fake', user: 'fake' }],
        currentContext: 'fake',
      });
      return kc;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  });
}
