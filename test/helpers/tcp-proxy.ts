// A TCP proxy in front of a real server, for tests that need a connection to drop at an exact
// point of the PostgreSQL protocol, or the target to be unreachable for a while.
import net from 'node:net';

export interface TcpProxy {
  port: number;
  /** Drop the next connection whose server→client bytes contain `marker`, before those bytes reach the client. */
  cutAt(marker: string): void;
  /** True once a cut happened. */
  readonly cut: boolean;
  /** Stops listening and drops every connection (the target becomes unreachable). */
  close(): Promise<void>;
  /** Listens again on the same port. */
  reopen(): Promise<void>;
}

/** A proxy on a free port forwarding to `host:port`. */
export async function startTcpProxy(targetPort: number, host = '127.0.0.1'): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  let marker: Buffer | null = null;
  let cut = false;
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, host);
    sockets.add(client).add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (d) => upstream.write(d));
    upstream.on('data', (d) => {
      if (marker && d.includes(marker)) {
        marker = null;
        cut = true;
        return drop();
      }
      client.write(d);
    });
    for (const s of [client, upstream]) {
      s.on('error', drop);
      s.on('close', () => {
        sockets.delete(s);
        drop();
      });
    }
  });
  const listen = (port: number) => new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
  await listen(0);
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    cutAt(m) {
      marker = Buffer.from(`${m}\0`);
    },
    get cut() {
      return cut;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    reopen: () => listen(port),
  };
}
