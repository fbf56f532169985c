/**
 * A TCP gate between the shipper and a fake: it can refuse connections, like a server that is
 * down, and accept them again on the same address.
 */
import { once } from 'node:events';
import { connect, createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';

async function listenOn(server: TcpServer, port: number): Promise<number> {
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
