/**
 * A fake kube-apiserver on 127.0.0.1:0 for tests that drive the real `@kubernetes/client-node`.
 *
 * Events live in an etcd-like store: one global revision counter, every version of every Event
 * kept until `compact()`, lists served from a consistent snapshot (paged with `limit`/`continue`),
 * watches replayed from history then streamed live as chunked JSON lines. Responses have the real
 * shapes (see ../shared/fixtures/events/, including gone-410.json). Faults are scripted per
 * endpoint. Also serves ConfigMaps, Leases and SelfSubjectAccessReviews for the checkpoint and
 * leader election, with resourceVersion optimistic concurrency.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { apiOf, convertEvent, fieldValue, metadataOf } from './kube-events.js';
import type { EventApi, KubeObject } from './kube-events.js';

export type { EventApi, KubeObject } from './kube-events.js';

/** What a scripted fault does to one request. */
export type KubeFault =
  /** Watch: send `afterEvents` events (default 0) then destroy the socket. List: destroy the socket. */
  | { readonly kind: 'drop'; readonly afterEvents?: number }
  /** Answer 200 and then send nothing (or, with `trickle`, a bare newline every `trickleMs`), until the client gives up. */
  | { readonly kind: 'stall'; readonly trickle?: boolean; readonly trickleMs?: number }
  /** HTTP 410 Gone with an Expired Status. */
  | { readonly kind: 'gone' }
  /** Watch: HTTP 200 with one in-stream ERROR event, code 410, reason Expired (what etcd-served watches do). */
  | { readonly kind: 'gone-in-stream' }
  /** Any HTTP status with a Status body (500, 401, 403, 404, 429…). */
  | { readonly kind: 'status'; readonly code: number }
  /** HTTP 200 with an empty body, closed at once. */
  | { readonly kind: 'empty-200' }
  /** List with a `continue` token: HTTP 410 whose Status carries a fresh `continue`. */
  | { readonly kind: 'expired-continue' }
  /** Never answer, not even the status line, until the client gives up (an API server or proxy that hangs). */
  | { readonly kind: 'hang' };

export type Endpoint = 'list' | 'watch' | 'configmaps' | 'leases' | 'ssar' | 'other';

/** Where a scripted fault can apply: Event lists and watches, ConfigMap and Lease requests. */
export type FaultEndpoint = 'list' | 'watch' | 'configmaps' | 'leases';

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly endpoint: Endpoint;
  readonly api?: EventApi;
}

export interface AccessRule {
  readonly verb?: string;
  readonly resource?: string;
  readonly group?: string;
  readonly namespace?: string;
  /** Matches only reviews naming this object. */
  readonly name?: string;
  /**
   * Matches only reviews that do not name this object (no name, or another): how a Role that grants
   * a verb by `resourceNames` only answers.
   */
  readonly exceptName?: string;
}

export interface FakeKubeApiServerOptions {
  /** Bearer token the fake accepts; others get 401. */
  readonly token?: string;
  /** Upper bound on any watch's length, whatever `timeoutSeconds` asks for. */
  readonly maxWatchMs?: number;
}

interface Version {
  readonly rv: number;
  /** The stored object, or null once deleted. */
  readonly obj: KubeObject | null;
}

interface HistoryEntry {
  readonly rv: number;
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  readonly key: string;
  readonly obj: KubeObject;
}

interface Selector {
  readonly field: string;
  readonly value: string;
  readonly negate: boolean;
}

interface Watcher {
  readonly res: ServerResponse;
  readonly api: EventApi;
  readonly namespace: string | undefined;
  readonly selectors: readonly Selector[];
  readonly bookmarks: boolean;
  /** Destroy the socket after this many more events (drop fault), or Infinity. */
  dropAfter: number;
  close(): void;
}

interface ScriptedFault {
  readonly endpoint: FaultEndpoint;
  readonly fault: KubeFault;
  /** Only requests with this HTTP method (ConfigMaps and Leases); any when left out. */
  readonly method?: string;
  remaining: number;
}

const FIELD_SELECTORS: Record<EventApi, readonly string[]> = {
  'core/v1': [
    'metadata.name', 'metadata.namespace', 'type', 'reason', 'source', 'reportingComponent',
    'involvedObject.kind', 'involvedObject.namespace', 'involvedObject.name', 'involvedObject.uid',
    'involvedObject.apiVersion', 'involvedObject.resourceVersion', 'involvedObject.fieldPath',
  ],
  'events.k8s.io/v1': [
    'metadata.name', 'metadata.namespace', 'type', 'reason', 'reportingController',
    'regarding.kind', 'regarding.namespace', 'regarding.name', 'regarding.uid',
    'regarding.apiVersion', 'regarding.resourceVersion', 'regarding.fieldPath',
  ],
};

function status(code: number, reason: string, message: string, extra: KubeObject = {}): KubeObject {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code, ...extra };
}

const REASON_BY_CODE: Record<number, string> = {
  400: 'BadRequest', 401: 'Unauthorized', 403: 'Forbidden', 404: 'NotFound', 409: 'Conflict',
  410: 'Expired', 422: 'Invalid', 429: 'TooManyRequests', 500: 'InternalError', 503: 'ServiceUnavailable',
};

function encodeContinue(rv: number, start: string): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv, start })).toString('base64url');
}

function decodeContinue(token: string): { rv: number; start: string } | undefined {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { rv?: unknown; start?: unknown };
    if (typeof parsed.rv === 'number' && typeof parsed.start === 'string') return { rv: parsed.rv, start: parsed.start };
  } catch {
    // fall through: a malformed token is a 400, like the real server
  }
  return undefined;
}

function clone<T>(v: T): T {
  return structuredClone(v);
}

export class FakeKubeApiServer {
  readonly token: string;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly maxWatchMs: number;
  private port = 0;

  private revision = 1;
  private compactedRv = 0;
  private readonly versions = new Map<string, Version[]>();
  private history: HistoryEntry[] = [];
  private sortedKeys: string[] | null = null;
  private readonly watchers = new Set<Watcher>();
  private readonly faults: ScriptedFault[] = [];
  private readonly disabledApis = new Set<EventApi>();
  private readonly objects = { configmaps: new Map<string, KubeObject>(), leases: new Map<string, KubeObject>() };
  private readonly denied: AccessRule[] = [];
  private readonly failingObjects = new Map<'configmaps' | 'leases', number>();
  /** Every request served, in order. */
  readonly requests: RecordedRequest[] = [];

  private constructor(options: FakeKubeApiServerOptions) {
    this.token = options.token ?? 'test-token';
    this.maxWatchMs = options.maxWatchMs ?? Number.POSITIVE_INFINITY;
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) this.sendJson(res, 500, status(500, 'InternalError', String(err)));
        else res.destroy();
      });
    });
    this.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  static async start(options: FakeKubeApiServerOptions = {}): Promise<FakeKubeApiServer> {
    const fake = new FakeKubeApiServer(options);
    fake.server.listen(0, '127.0.0.1');
    await once(fake.server, 'listening');
    fake.port = (fake.server.address() as AddressInfo).port;
    return fake;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** A KubeConfig for the real client library, pointing here with token auth. */
  kubeConfig(namespace = 'default'): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'fake', server: this.url, skipTLSVerify: true }],
      users: [{ name: 'fake-user', token: this.token }],
      contexts: [{ name: 'fake', cluster: 'fake', user: 'fake-user', namespace }],
      currentContext: 'fake',
    });
    return kc;
  }

  async close(): Promise<void> {
    for (const w of this.watchers) w.close();
    this.watchers.clear();
    // Stop accepting first, then end every connection (also one accepted a moment ago), so a
    // hanging request can never keep close() waiting.
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    this.server.closeAllConnections();
    await closed;
  }

  // ---------------------------------------------------------------- events: test API

  /** The current revision (what a list now would return as its resourceVersion). */
  get resourceVersion(): number {
    return this.revision;
  }

  static keyOf(obj: KubeObject): string {
    const m = metadataOf(obj);
    return `${String(m['namespace'])}/${String(m['name'])}`;
  }

  /** Stores a new Event (either API shape); returns the stored copy with its resourceVersion. */
  createEvent(obj: KubeObject): KubeObject {
    const key = FakeKubeApiServer.keyOf(obj);
    if (this.current(key)) throw new Error(`event ${key} exists`);
    const stored = clone(obj);
    const m = metadataOf(stored);
    m['uid'] ??= `uid-${key}`;
    return this.commit(key, 'ADDED', stored);
  }

  /** Applies `mutate` to a copy of the newest state and stores it as a new version (MODIFIED). */
  updateEvent(key: string, mutate: (obj: KubeObject) => void): KubeObject {
    const cur = this.current(key);
    if (!cur) throw new Error(`event ${key} not found`);
    const next = clone(cur);
    mutate(next);
    return this.commit(key, 'MODIFIED', next);
  }

  /** One more occurrence the old-style way: count (or deprecatedCount) up, last timestamp moved. */
  bumpCount(key: string, time: string, by = 1): KubeObject {
    return this.updateEvent(key, (o) => {
      if (apiOf(o) === 'core/v1') {
        o['count'] = (typeof o['count'] === 'number' ? o['count'] : 1) + by;
        o['lastTimestamp'] = time;
      } else {
        o['deprecatedCount'] = (typeof o['deprecatedCount'] === 'number' ? o['deprecatedCount'] : 1) + by;
        o['deprecatedLastTimestamp'] = time;
      }
    });
  }

  /** One more occurrence the new way: series.count up (from 2 on first repeat), lastObservedTime moved. */
  bumpSeries(key: string, time: string): KubeObject {
    return this.updateEvent(key, (o) => {
      const series = o['series'] as { count?: number } | undefined | null;
      const count = series && typeof series.count === 'number' ? series.count + 1 : 2;
      o['series'] = { count, lastObservedTime: time };
    });
  }

  /** A change that is no new occurrence (a label added). */
  touchMetadata(key: string): KubeObject {
    return this.updateEvent(key, (o) => {
      const m = metadataOf(o);
      const labels = (m['labels'] as Record<string, string> | undefined) ?? {};
      m['labels'] = { ...labels, touched: String(this.revision + 1) };
    });
  }

  deleteEvent(key: string): void {
    const cur = this.current(key);
    if (!cur) throw new Error(`event ${key} not found`);
    this.commit(key, 'DELETED', clone(cur));
  }

  /** The newest state of every Event that exists now, in key order. */
  events(): KubeObject[] {
    return this.keys()
      .map((k) => this.current(k))
      .filter((o): o is KubeObject => o !== undefined);
  }

  /** Like etcd compaction: forgets history up to `rv` (default: now); older watches and continue tokens get 410. */
  compact(rv = this.revision): void {
    this.compactedRv = rv;
    this.history = this.history.filter((h) => h.rv > rv);
    for (const [key, list] of this.versions) {
      let keepFrom = 0;
      for (let i = 0; i < list.length; i++) if (list[i]!.rv <= rv) keepFrom = i;
      const kept = list.slice(keepFrom);
      if (kept.length === 1 && kept[0]!.obj === null) {
        this.versions.delete(key);
        this.sortedKeys = null;
      } else this.versions.set(key, kept);
    }
  }

  /** Sends a BOOKMARK at the current revision to every open watch that asked for bookmarks. */
  sendBookmark(): void {
    for (const w of this.watchers) {
      if (!w.bookmarks) continue;
      const apiVersion = w.api === 'core/v1' ? 'v1' : 'events.k8s.io/v1';
      w.res.write(JSON.stringify({ type: 'BOOKMARK', object: { kind: 'Event', apiVersion, metadata: { resourceVersion: String(this.revision) } } }) + '\n');
    }
  }

  /**
   * Writes `line` (plus a newline) as it is, bytes and all, into every open watch stream: for
   * what the typed API cannot make, such as invalid UTF-8 or an unknown watch event type.
   */
  sendRaw(line: string | Buffer): void {
    for (const w of this.watchers) w.res.write(Buffer.concat([Buffer.isBuffer(line) ? line : Buffer.from(line), Buffer.from('\n')]));
  }

  /** Writes `bytes` as they are into every open watch stream, no newline added: a line cut across chunks. */
  sendWatchBytes(bytes: string | Buffer): void {
    for (const w of this.watchers) w.res.write(bytes);
  }

  /** Ends every open watch stream cleanly, as the server does at `timeoutSeconds`. */
  /** Writes one raw line to every open watch, as is (bad input: unknown event types, objects that are not objects). */
  sendWatchLine(line: string): void {
    for (const w of this.watchers) w.res.write(`${line}\n`);
  }

  endWatches(): void {
    for (const w of [...this.watchers]) w.close();
  }

  get openWatches(): number {
    return this.watchers.size;
  }

  // ---------------------------------------------------------------- faults and access: test API

  /**
   * The next `times` requests to `endpoint` (list: pages; watch: watch requests; configmaps and
   * leases: object requests, only those with `method` when given) get `fault`. ConfigMap and Lease
   * requests support `hang`, `drop`, `stall`, `empty-200` and `status`.
   */
  injectFault(endpoint: FaultEndpoint, fault: KubeFault, times = 1, method?: string): void {
    this.faults.push({ endpoint, fault, remaining: times, ...(method !== undefined ? { method } : {}) });
  }

  /** Scripted faults not used up yet. */
  get pendingFaults(): number {
    return this.faults.length;
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  /** Makes an Event API group answer 404, like a server that does not serve it. */
  disableApi(api: EventApi): void {
    this.disabledApis.add(api);
  }

  /** SelfSubjectAccessReviews matching the rule answer allowed=false. */
  deny(rule: AccessRule): void {
    this.denied.push(rule);
  }

  /**
   * Every request for ConfigMaps (or Leases) answers `code` (e.g. 503) until called again with
   * undefined, like an API server that cannot serve them for a while.
   */
  failObjects(resource: 'configmaps' | 'leases', code: number | undefined): void {
    if (code === undefined) this.failingObjects.delete(resource);
    else this.failingObjects.set(resource, code);
  }

  count(endpoint: Endpoint): number {
    return this.requests.filter((r) => r.endpoint === endpoint).length;
  }

  /** A ConfigMap or Lease as stored now. */
  /** Deletes a ConfigMap or Lease, as `kubectl delete` would. */
  deleteObject(resource: 'configmaps' | 'leases', namespace: string, name: string): void {
    this.objects[resource].delete(`${namespace}/${name}`);
  }

  getObject(resource: 'configmaps' | 'leases', namespace: string, name: string): KubeObject | undefined {
    const o = this.objects[resource].get(`${namespace}/${name}`);
    return o ? clone(o) : undefined;
  }

  /** Stores a ConfigMap or Lease directly (e.g. a foreign or corrupt one). */
  putObject(resource: 'configmaps' | 'leases', obj: KubeObject): KubeObject {
    const stored = clone(obj);
    const m = metadataOf(stored);
    this.revision += 1;
    m['resourceVersion'] = String(this.revision);
    m['uid'] ??= `uid-${String(m['name'])}`;
    this.objects[resource].set(`${String(m['namespace'])}/${String(m['name'])}`, stored);
    return clone(stored);
  }

  // ---------------------------------------------------------------- store internals

  private keys(): string[] {
    this.sortedKeys ??= [...this.versions.keys()].sort();
    return this.sortedKeys;
  }

  private current(key: string): KubeObject | undefined {
    const list = this.versions.get(key);
    const last = list?.[list.length - 1];
    return last?.obj ?? undefined;
  }

  private at(key: string, rv: number): KubeObject | undefined {
    const list = this.versions.get(key);
    if (!list) return undefined;
    for (let i = list.length - 1; i >= 0; i--) {
      const v = list[i]!;
      if (v.rv <= rv) return v.obj ?? undefined;
    }
    return undefined;
  }

  private commit(key: string, type: HistoryEntry['type'], obj: KubeObject): KubeObject {
    this.revision += 1;
    const rv = this.revision;
    metadataOf(obj)['resourceVersion'] = String(rv);
    let list = this.versions.get(key);
    if (!list) {
      list = [];
      this.versions.set(key, list);
      this.sortedKeys = null;
    }
    list.push({ rv, obj: type === 'DELETED' ? null : obj });
    const entry: HistoryEntry = { rv, type, key, obj };
    this.history.push(entry);
    for (const w of this.watchers) this.deliver(w, entry);
    return clone(obj);
  }

  // ---------------------------------------------------------------- HTTP

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const path = url.pathname;
    const query = url.searchParams;
    const method = req.method ?? 'GET';
    const route = this.route(path);
    const api = route.kind === 'events' ? route.api : undefined;
    const endpoint: Endpoint =
      route.kind === 'events' ? (query.get('watch') === 'true' || query.get('watch') === '1' ? 'watch' : 'list') : route.kind === 'object' ? route.resource : route.kind;
    this.requests.push({ method, path, query, endpoint, ...(api ? { api } : {}) });

    if (req.headers.authorization !== `Bearer ${this.token}`) {
      this.sendJson(res, 401, status(401, 'Unauthorized', 'Unauthorized'));
      return;
    }
    const body = method === 'GET' || method === 'DELETE' ? undefined : await readBody(req);

    switch (route.kind) {
      case 'events':
        if (method !== 'GET') return this.sendJson(res, 405, status(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource'));
        if (this.disabledApis.has(route.api)) return this.sendJson(res, 404, status(404, 'NotFound', 'the server could not find the requested resource'));
        if (endpoint === 'watch') return this.watch(res, route.api, route.namespace, query);
        return this.list(res, route.api, route.namespace, query);
      case 'object': {
        const failWith = this.failingObjects.get(route.resource);
        if (failWith !== undefined) return this.sendJson(res, failWith, status(failWith, 'InternalError', 'failing as the test asked'));
        const fault = this.takeFault(route.resource, false, method);
        if (fault && this.faultResponse(res, fault, route.resource, 'v1')) return;
        return this.object(req, res, route.resource, route.namespace, route.name, method, body);
      }
      case 'ssar':
        return this.accessReview(res, method, body);
      default:
        return this.sendJson(res, 404, status(404, 'NotFound', 'the server could not find the requested resource'));
    }
  }

  private route(path: string):
    | { kind: 'events'; api: EventApi; namespace: string | undefined }
    | { kind: 'object'; resource: 'configmaps' | 'leases'; namespace: string; name: string | undefined }
    | { kind: 'ssar' }
    | { kind: 'other' } {
    let m = /^\/api\/v1\/(?:namespaces\/([^/]+)\/)?events$/.exec(path);
    if (m) return { kind: 'events', api: 'core/v1', namespace: m[1] };
    m = /^\/apis\/events\.k8s\.io\/v1\/(?:namespaces\/([^/]+)\/)?events$/.exec(path);
    if (m) return { kind: 'events', api: 'events.k8s.io/v1', namespace: m[1] };
    m = /^\/api\/v1\/namespaces\/([^/]+)\/configmaps(?:\/([^/]+))?$/.exec(path);
    if (m) return { kind: 'object', resource: 'configmaps', namespace: m[1]!, name: m[2] };
    m = /^\/apis\/coordination\.k8s\.io\/v1\/namespaces\/([^/]+)\/leases(?:\/([^/]+))?$/.exec(path);
    if (m) return { kind: 'object', resource: 'leases', namespace: m[1]!, name: m[2] };
    if (path === '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews') return { kind: 'ssar' };
    return { kind: 'other' };
  }

  private takeFault(endpoint: FaultEndpoint, isContinue: boolean, method?: string): KubeFault | undefined {
    const i = this.faults.findIndex(
      (f) => f.endpoint === endpoint && (f.fault.kind !== 'expired-continue' || isContinue) && (f.method === undefined || f.method === method),
    );
    if (i < 0) return undefined;
    const f = this.faults[i]!;
    f.remaining -= 1;
    if (f.remaining <= 0) this.faults.splice(i, 1);
    return f.fault;
  }

  private parseSelectors(api: EventApi, raw: string | null): Selector[] | string {
    if (!raw) return [];
    const out: Selector[] = [];
    for (const part of raw.split(',')) {
      const m = /^([^!=]+)(==|!=|=)(.*)$/.exec(part.trim());
      if (!m) return `invalid field selector: ${part}`;
      const field = m[1]!;
      if (!FIELD_SELECTORS[api].includes(field)) return `"${field}" is not a known field selector: only "${FIELD_SELECTORS[api].join('", "')}"`;
      out.push({ field, value: m[3]!, negate: m[2] === '!=' });
    }
    return out;
  }

  private matches(view: KubeObject, namespace: string | undefined, selectors: readonly Selector[]): boolean {
    if (namespace !== undefined && metadataOf(view)['namespace'] !== namespace) return false;
    for (const s of selectors) {
      const raw = s.field === 'source' ? fieldValue(view, 'source.component') : fieldValue(view, s.field);
      const value = typeof raw === 'string' || typeof raw === 'number' || typeof raw === 'boolean' ? String(raw) : '';
      if ((value === s.value) === s.negate) return false;
    }
    return true;
  }

  private faultResponse(res: ServerResponse, fault: KubeFault, endpoint: FaultEndpoint, apiVersion: string): boolean {
    switch (fault.kind) {
      case 'gone':
        this.sendJson(res, 410, status(410, 'Expired', `The resourceVersion for the provided ${endpoint} is too old.`));
        return true;
      case 'status': {
        const reason = REASON_BY_CODE[fault.code] ?? 'InternalError';
        const message =
          fault.code === 403
            ? `events${apiVersion === 'events.k8s.io/v1' ? '.events.k8s.io' : ''} is forbidden: User "system:serviceaccount:kes:kube-event-shipper" cannot ${endpoint} resource "events" in API group "${apiVersion === 'v1' ? '' : 'events.k8s.io'}" at the cluster scope`
            : `injected ${fault.code}`;
        this.sendJson(res, fault.code, status(fault.code, reason, message));
        return true;
      }
      case 'empty-200':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end();
        return true;
      case 'drop':
        if (endpoint === 'watch') return false;
        res.socket?.destroy();
        return true;
      case 'stall': {
        res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
        res.flushHeaders();
        if (fault.trickle) {
          const timer = setInterval(() => res.write('\n'), fault.trickleMs ?? 50);
          res.on('close', () => clearInterval(timer));
        }
        return true;
      }
      case 'gone-in-stream':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ type: 'ERROR', object: status(410, 'Expired', 'The resourceVersion for the provided watch is too old.') }) + '\n');
        return true;
      case 'expired-continue':
        return false; // handled by list()
      case 'hang':
        return true; // the request stays open; close() destroys its socket
    }
  }

  private list(res: ServerResponse, api: EventApi, namespace: string | undefined, query: URLSearchParams): void {
    const apiVersion = api === 'core/v1' ? 'v1' : 'events.k8s.io/v1';
    const selectors = this.parseSelectors(api, query.get('fieldSelector'));
    if (typeof selectors === 'string') return this.sendJson(res, 400, status(400, 'BadRequest', selectors));
    const continueToken = query.get('continue');
    const fault = this.takeFault('list', continueToken !== null && continueToken !== '');
    if (fault && fault.kind !== 'expired-continue' && this.faultResponse(res, fault, 'list', apiVersion)) return;

    const limit = Number(query.get('limit') ?? '0');
    let snapshot = this.revision;
    let start = '';
    if (continueToken) {
      const token = decodeContinue(continueToken);
      if (!token) return this.sendJson(res, 400, status(400, 'BadRequest', 'continue key is not valid'));
      start = token.start;
      if (fault?.kind === 'expired-continue' || (token.rv >= 0 && token.rv < this.compactedRv)) {
        const fresh = encodeContinue(-1, start);
        return this.sendJson(res, 410, status(410, 'Expired', 'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.', { metadata: { continue: fresh } }));
      }
      if (token.rv >= 0) snapshot = token.rv;
    } else {
      const rv = query.get('resourceVersion');
      if (rv && rv !== '0' && query.get('resourceVersionMatch') === 'Exact') {
        const n = Number(rv);
        if (n < this.compactedRv) return this.sendJson(res, 410, status(410, 'Expired', 'The resourceVersion for the provided list is too old.'));
        snapshot = n;
      }
    }

    const keys = this.keys();
    let i = start === '' ? 0 : lowerBound(keys, start);
    const items: KubeObject[] = [];
    let lastKey = '';
    for (; i < keys.length; i++) {
      const key = keys[i]!;
      const obj = this.at(key, snapshot);
      if (!obj) continue;
      const view = convertEvent(obj, api);
      if (!this.matches(view, namespace, selectors)) continue;
      if (limit > 0 && items.length >= limit) break;
      const { kind: _kind, apiVersion: _apiVersion, ...item } = view;
      items.push(item);
      lastKey = key;
    }
    const metadata: KubeObject = { resourceVersion: String(snapshot) };
    if (i < keys.length && limit > 0) {
      metadata['continue'] = encodeContinue(snapshot, lastKey + '\u0000');
      // Exact only while cheap; real servers also omit it when they cannot tell.
      if (selectors.length === 0 && namespace === undefined && keys.length - i <= 5000) {
        let remaining = 0;
        for (let j = i; j < keys.length; j++) if (this.at(keys[j]!, snapshot)) remaining++;
        metadata['remainingItemCount'] = remaining;
      }
    }
    this.sendJson(res, 200, { kind: 'EventList', apiVersion, metadata, items });
  }

  private watch(res: ServerResponse, api: EventApi, namespace: string | undefined, query: URLSearchParams): void {
    const apiVersion = api === 'core/v1' ? 'v1' : 'events.k8s.io/v1';
    const selectors = this.parseSelectors(api, query.get('fieldSelector'));
    if (typeof selectors === 'string') return this.sendJson(res, 400, status(400, 'BadRequest', selectors));
    const fault = this.takeFault('watch', false);
    if (fault && this.faultResponse(res, fault, 'watch', apiVersion)) return;

    const rvParam = query.get('resourceVersion');
    const fromRv = rvParam === null || rvParam === '' || rvParam === '0' ? undefined : Number(rvParam);
    if (fromRv !== undefined && fromRv < this.compactedRv) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ type: 'ERROR', object: status(410, 'Expired', 'The resourceVersion for the provided watch is too old.') }) + '\n');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    res.flushHeaders();
    const timeoutSeconds = Number(query.get('timeoutSeconds') ?? '1800');
    const timer = setTimeout(() => watcher.close(), Math.min(timeoutSeconds * 1000, this.maxWatchMs));
    const watcher: Watcher = {
      res,
      api,
      namespace,
      selectors,
      bookmarks: query.get('allowWatchBookmarks') === 'true',
      dropAfter: fault?.kind === 'drop' ? (fault.afterEvents ?? 0) : Number.POSITIVE_INFINITY,
      close: () => {
        clearTimeout(timer);
        this.watchers.delete(watcher);
        res.end();
      },
    };
    res.on('close', () => {
      clearTimeout(timer);
      this.watchers.delete(watcher);
    });
    if (watcher.dropAfter === 0) {
      res.socket?.destroy();
      return;
    }
    this.watchers.add(watcher);
    if (fromRv === undefined) {
      for (const obj of this.events()) this.deliver(watcher, { rv: this.revision, type: 'ADDED', key: FakeKubeApiServer.keyOf(obj), obj });
    } else {
      for (const h of this.history) if (h.rv > fromRv) this.deliver(watcher, h);
    }
  }

  private deliver(w: Watcher, h: HistoryEntry): void {
    if (!this.watchers.has(w)) return;
    const view = convertEvent(h.obj, w.api);
    if (!this.matches(view, w.namespace, w.selectors)) return;
    const object = h.type === 'DELETED' ? { ...view, metadata: { ...metadataOf(view), resourceVersion: String(h.rv) } } : view;
    w.res.write(JSON.stringify({ type: h.type, object }) + '\n');
    w.dropAfter -= 1;
    if (w.dropAfter <= 0) {
      this.watchers.delete(w);
      // Let the written chunk go out first, then cut the connection without a clean end.
      w.res.socket?.end();
      setImmediate(() => w.res.socket?.destroy());
    }
  }

  // ---------------------------------------------------------------- ConfigMaps and Leases

  private object(
    req: IncomingMessage,
    res: ServerResponse,
    resource: 'configmaps' | 'leases',
    namespace: string,
    name: string | undefined,
    method: string,
    body: string | undefined,
  ): void {
    const store = this.objects[resource];
    const kind = resource === 'configmaps' ? 'ConfigMap' : 'Lease';
    const apiVersion = resource === 'configmaps' ? 'v1' : 'coordination.k8s.io/v1';
    const notFound = (n: string): void =>
      this.sendJson(res, 404, status(404, 'NotFound', `${resource}${resource === 'leases' ? '.coordination.k8s.io' : ''} "${n}" not found`, { details: { name: n, kind: resource, ...(resource === 'leases' ? { group: 'coordination.k8s.io' } : {}) } }));
    const conflict = (n: string): void =>
      this.sendJson(res, 409, status(409, 'Conflict', `Operation cannot be fulfilled on ${resource}${resource === 'leases' ? '.coordination.k8s.io' : ''} "${n}": the object has been modified; please apply your changes to the latest version and try again`, { details: { name: n, kind: resource } }));
    const parse = (): KubeObject | undefined => {
      try {
        const v = JSON.parse(body ?? '') as unknown;
        if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as KubeObject;
      } catch {
        // answered below
      }
      this.sendJson(res, 400, status(400, 'BadRequest', 'the body of the request was in an unknown format'));
      return undefined;
    };
    const store1 = (obj: KubeObject, n: string, created: boolean): void => {
      const m = metadataOf(obj);
      this.revision += 1;
      m['resourceVersion'] = String(this.revision);
      m['namespace'] = namespace;
      m['name'] = n;
      if (created) {
        m['uid'] = `uid-${resource}-${n}-${this.revision}`;
        m['creationTimestamp'] = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
      }
      obj['kind'] = kind;
      obj['apiVersion'] = apiVersion;
      store.set(`${namespace}/${n}`, obj);
      this.sendJson(res, created ? 201 : 200, obj);
    };

    if (name === undefined) {
      if (method !== 'POST') return this.sendJson(res, 405, status(405, 'MethodNotAllowed', 'method not allowed'));
      const obj = parse();
      if (!obj) return;
      const n = metadataOf(obj)['name'];
      if (typeof n !== 'string' || n === '') return this.sendJson(res, 422, status(422, 'Invalid', `${kind} "" is invalid: metadata.name: Required value: name or generateName is required`));
      if (store.has(`${namespace}/${n}`)) return this.sendJson(res, 409, status(409, 'AlreadyExists', `${resource} "${n}" already exists`, { details: { name: n, kind: resource } }));
      delete metadataOf(obj)['resourceVersion'];
      return store1(obj, n, true);
    }
    const existing = store.get(`${namespace}/${name}`);
    switch (method) {
      case 'GET':
        if (!existing) return notFound(name);
        return this.sendJson(res, 200, existing);
      case 'DELETE':
        if (!existing) return notFound(name);
        store.delete(`${namespace}/${name}`);
        return this.sendJson(res, 200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name, kind: resource } });
      case 'PUT': {
        const obj = parse();
        if (!obj) return;
        if (!existing) return notFound(name);
        const rv = metadataOf(obj)['resourceVersion'];
        if (rv !== undefined && rv !== '' && rv !== metadataOf(existing)['resourceVersion']) return conflict(name);
        const m = metadataOf(obj);
        m['uid'] = metadataOf(existing)['uid'];
        m['creationTimestamp'] = metadataOf(existing)['creationTimestamp'];
        return store1(obj, name, false);
      }
      case 'PATCH': {
        if (!existing) return notFound(name);
        let patched: KubeObject;
        const type = req.headers['content-type'] ?? '';
        try {
          const patch = JSON.parse(body ?? '') as unknown;
          if (type.includes('json-patch')) patched = applyJsonPatch(clone(existing), patch);
          else {
            if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) throw new Error('patch is not an object');
            const rv = fieldValue(patch as KubeObject, 'metadata.resourceVersion');
            if (rv !== undefined && rv !== metadataOf(existing)['resourceVersion']) return conflict(name);
            patched = mergePatch(clone(existing), patch) as KubeObject;
          }
        } catch (err) {
          return this.sendJson(res, 422, status(422, 'Invalid', `patch could not be applied: ${String(err)}`));
        }
        return store1(patched, name, false);
      }
      default:
        return this.sendJson(res, 405, status(405, 'MethodNotAllowed', 'method not allowed'));
    }
  }

  private accessReview(res: ServerResponse, method: string, body: string | undefined): void {
    if (method !== 'POST') return this.sendJson(res, 405, status(405, 'MethodNotAllowed', 'method not allowed'));
    let review: KubeObject;
    try {
      review = JSON.parse(body ?? '') as KubeObject;
    } catch {
      return this.sendJson(res, 400, status(400, 'BadRequest', 'the body of the request was in an unknown format'));
    }
    const attrs = (fieldValue(review, 'spec.resourceAttributes') ?? {}) as Record<string, string | undefined>;
    const denied = this.denied.some(
      (r) =>
        (r.verb === undefined || r.verb === attrs['verb']) &&
        (r.resource === undefined || r.resource === attrs['resource']) &&
        (r.group === undefined || r.group === (attrs['group'] ?? '')) &&
        (r.namespace === undefined || r.namespace === attrs['namespace']) &&
        (r.name === undefined || r.name === attrs['name']) &&
        (r.exceptName === undefined || r.exceptName !== attrs['name']),
    );
    this.sendJson(res, 201, {
      kind: 'SelfSubjectAccessReview',
      apiVersion: 'authorization.k8s.io/v1',
      metadata: { creationTimestamp: null },
      spec: review['spec'] ?? {},
      status: denied ? { allowed: false, reason: 'denied by the test' } : { allowed: true, reason: 'allowed by the test' },
    });
  }

  private sendJson(res: ServerResponse, code: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function lowerBound(sorted: readonly string[], key: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** RFC 7386 JSON merge patch (also used for strategic merge patches of these simple objects). */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> = typeof target === 'object' && target !== null && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** RFC 6902 JSON patch: add, replace, remove and test, enough for leases and configmaps. */
function applyJsonPatch(doc: KubeObject, patch: unknown): KubeObject {
  if (!Array.isArray(patch)) throw new Error('json patch must be an array');
  for (const op of patch as { op?: string; path?: string; value?: unknown }[]) {
    const parts = (op.path ?? '').split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
    const last = parts.pop();
    if (last === undefined) throw new Error('empty path');
    let parent: Record<string, unknown> = doc;
    for (const p of parts) {
      const next = parent[p];
      if (typeof next !== 'object' || next === null) throw new Error(`path ${op.path ?? ''} not found`);
      parent = next as Record<string, unknown>;
    }
    switch (op.op) {
      case 'add':
      case 'replace':
        if (op.op === 'replace' && !(last in parent)) throw new Error(`path ${op.path ?? ''} not found`);
        parent[last] = op.value;
        break;
      case 'remove':
        if (!(last in parent)) throw new Error(`path ${op.path ?? ''} not found`);
        delete parent[last];
        break;
      case 'test':
        if (JSON.stringify(parent[last]) !== JSON.stringify(op.value)) throw new Error(`test failed at ${op.path ?? ''}`);
        break;
      default:
        throw new Error(`unsupported op ${String(op.op)}`);
    }
  }
  return doc;
}
