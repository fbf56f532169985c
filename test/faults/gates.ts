/**
 * Things that sit between the shipper and a fake, on the network path a real deployment has:
 * a TCP gate that can refuse connections (a server that is down, on the same address) and an
 * HTTP gateway in front of Loki (bearer token check, body size limit, misrouting), like the nginx
 * or cloud gateways users put before Loki.
 */
import { once } from 'node:events';
import { createServer as createHttpServer, request as httpRequest, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { connect, createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';

async function listenOn(server: TcpServer | HttpServer, port: number): Promise<number> {
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

/** Forwards TCP to `target`; `refuse()` closes the port (connection refused) and cuts what is open. */
export class TcpGate {
  private server: TcpServer | undefined;
  private readonly sockets = new Set<Socket>();
  private port = 0;

  private constructor(private readonly target: { host: string; port: number }) {}

  static async start(targetUrl: string): Promise<TcpGate> {
    const u = new URL(targetUrl);
    const gate = new TcpGate({ host: u.hostname, port: Number(u.port) });
    await gate.accept();
    return gate;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Starts (again) listening on the same port. */
  async accept(): Promise<void> {
    if (this.server) return;
    const server = createTcpServer((client) => {
      const upstream = connect(this.target.port, this.target.host);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream);
      upstream.pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    this.server = server;
    this.port = await listenOn(server, this.port);
  }

  /** Stops listening and cuts every open connection: clients now get ECONNREFUSED. */
  async refuse(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  close(): Promise<void> {
    return this.refuse();
  }
}

export interface GatewayRules {
  /** Requests without `Authorization: Bearer <token>` get 401. */
  bearerToken?: string;
  /** Bodies larger than this get 413 (nginx `client_max_body_size`). */
  maxBodyBytes?: number;
  /** Every request gets 404 (a misrouted ingress). */
  notFound?: boolean;
}

/** Answers counted by the gateway itself (not forwarded). */
export interface GatewayCounts {
  unauthorized: number;
  tooLarge: number;
  notFound: number;
  forwarded: number;
}

/** An HTTP gateway in front of Loki: checks `rules`, forwards the rest unchanged. */
export class LokiGateway {
  readonly rules: GatewayRules = {};
  readonly counts: GatewayCounts = { unauthorized: 0, tooLarge: 0, notFound: 0, forwarded: 0 };
  private readonly server: HttpServer;
  private readonly sockets = new Set<Socket>();
  private port = 0;

  private constructor(private readonly target: URL) {
    this.server = createHttpServer((req, res) => {
      this.handle(req, res).catch(() => res.destroy());
    });
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  static async start(lokiUrl: string): Promise<LokiGateway> {
    const gateway = new LokiGateway(new URL(lokiUrl));
    gateway.port = await listenOn(gateway.server, 0);
    return gateway;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    if (this.rules.notFound) {
      this.counts.notFound += 1;
      res.writeHead(404, { 'content-type': 'text/html' }).end('<html><body><h1>404 Not Found</h1></body></html>\n');
      return;
    }
    if (this.rules.bearerToken !== undefined && req.headers.authorization !== `Bearer ${this.rules.bearerToken}`) {
      this.counts.unauthorized += 1;
      res.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer' }).end('401 Unauthorized\n');
      return;
    }
    if (this.rules.maxBodyBytes !== undefined && body.length > this.rules.maxBodyBytes) {
      this.counts.tooLarge += 1;
      res.writeHead(413, { 'content-type': 'text/html' }).end('<html><body><h1>413 Request Entity Too Large</h1></body></html>\n');
      return;
    }
    this.counts.forwarded += 1;
    const headers = { ...req.headers, host: this.target.host };
    delete headers.authorization;
    const upstream = httpRequest({ host: this.target.hostname, port: this.target.port, method: req.method, path: req.url, headers });
    upstream.on('response', (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' }).end('502 Bad Gateway\n');
      else res.destroy();
    });
    upstream.end(body);
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    this.server.closeAllConnections();
    await closed;
  }
}
