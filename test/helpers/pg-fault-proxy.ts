// A TCP proxy in front of the real PostgreSQL that drops connections at chosen moments of the wire
// protocol: the COMMIT a client sends (so it never reaches the server), the server's answer to a
// COMMIT (so the client cannot know it committed), or everything for a while (the server is gone).
import net from 'node:net';

export type Trap =
  /** The next COMMIT is not forwarded: its connection is cut, the server rolls the transaction back. */
  | 'lose-commit'
  /** The next COMMIT commits, and its answer is not forwarded: its connection is cut. */
  | 'lose-commit-answer'
  /** The next COMMIT commits and is answered; then every connection is cut (and refused while down). */
  | 'down-after-commit'
  /** The next COMMIT is forwarded and its connection cut at once: the server commits (as slowly as it does) with no one to answer. */
  | 'cut-after-commit';

export interface PgFaultProxy {
  /** A URL like `databaseUrl` that goes through the proxy. */
  url(databaseUrl: string): string;
  /** Arms a trap for the next COMMIT; resolves when it fired. */
  arm(trap: Trap, options?: { downForMs?: number }): Promise<void>;
  /** Cuts every connection and refuses new ones for `ms`. */
  down(ms: number): void;
  /** Accepts connections again at once. */
  up(): void;
  close(): Promise<void>;
}

/** The strings of a Query ('Q') or Parse ('P') message: the statement text is one of them. */
function texts(message: Buffer): string[] {
  return message.subarray(5).toString('latin1').split('\0');
}

/** Splits `buffer` into whole protocol messages (type byte + length); returns them and the rest. */
function split(buffer: Buffer, startup: boolean): { messages: Buffer[]; rest: Buffer; startup: boolean } {
  const messages: Buffer[] = [];
  let rest = buffer;
  for (;;) {
    if (startup) {
      // The startup packet has no type byte.
      if (rest.length < 4 || rest.length < rest.readInt32BE(0)) break;
      const len = rest.readInt32BE(0);
      messages.push(rest.subarray(0, len));
      rest = rest.subarray(len);
      startup = false;
      continue;
    }
    if (rest.length < 5 || rest.length < 1 + rest.readInt32BE(1)) break;
    const len = 1 + rest.readInt32BE(1);
    messages.push(rest.subarray(0, len));
    rest = rest.subarray(len);
  }
  return { messages, rest, startup };
}

/** Starts the proxy on a free local port in front of `upstream` (host:port of PostgreSQL). */
export async function startPgFaultProxy(upstream: { host: string; port: number }): Promise<PgFaultProxy> {
  const sockets = new Set<net.Socket>();
  let downUntil = 0;
  let armed: { trap: Trap; downForMs: number; fired: () => void } | undefined;

  const cutAll = () => {
    for (const s of sockets) s.destroy();
    sockets.clear();
  };
  const down = (ms: number) => {
    downUntil = Date.now() + ms;
    cutAll();
  };

  const server = net.createServer((client) => {
    if (Date.now() < downUntil) {
      client.destroy();
      return;
    }
    const server = net.connect(upstream.port, upstream.host);
    sockets.add(client);
    sockets.add(server);
    const cut = () => {
      client.destroy();
      server.destroy();
      sockets.delete(client);
      sockets.delete(server);
    };
    client.on('error', cut).on('close', cut);
    server.on('error', cut).on('close', cut);
    // Set when this connection's COMMIT was let through under 'lose-commit-answer' / 'down-after-commit'.
    let watching: { trap: Trap; downForMs: number; fired: () => void } | undefined;

    let fromClient: Buffer = Buffer.alloc(0);
    let startup = true;
    client.on('data', (chunk) => {
      const parts = split(Buffer.concat([fromClient, chunk]), startup);
      fromClient = parts.rest;
      startup = parts.startup;
      const forward: Buffer[] = [];
      for (const m of parts.messages) {
        const type = String.fromCharCode(m[0]);
        const isCommit = !parts.startup && (type === 'Q' || type === 'P') && texts(m).some((t) => t.trim().toUpperCase() === 'COMMIT');
        if (isCommit && armed) {
          const trap = armed;
          armed = undefined;
          if (trap.trap === 'lose-commit') {
            trap.fired();
            cut();
            return;
          }
          if (trap.trap === 'cut-after-commit') {
            // The rest of the chunk too: an extended-protocol COMMIT runs at its Execute and Sync.
            server.write(Buffer.concat([...forward, ...parts.messages.slice(parts.messages.indexOf(m)), fromClient]), () => {
              cut();
              trap.fired();
            });
            return;
          }
          watching = trap;
        }
        forward.push(m);
      }
      if (forward.length) server.write(Buffer.concat(forward));
    });

    let fromServer: Buffer = Buffer.alloc(0);
    server.on('data', (chunk) => {
      if (!watching) {
        client.write(chunk);
        return;
      }
      const parts = split(Buffer.concat([fromServer, chunk]), false);
      fromServer = parts.rest;
      const forward: Buffer[] = [];
      for (const m of parts.messages) {
        const isCommitDone = String.fromCharCode(m[0]) === 'C' && texts(m)[0] === 'COMMIT';
        if (isCommitDone && watching) {
          const trap = watching;
          watching = undefined;
          if (trap.trap === 'lose-commit-answer') {
            if (forward.length) client.write(Buffer.concat(forward));
            cut();
            if (trap.downForMs) down(trap.downForMs);
            trap.fired();
            return;
          }
          // down-after-commit: the answer goes through, then the server is gone.
          forward.push(m, ...parts.messages.slice(parts.messages.indexOf(m) + 1), parts.rest);
          fromServer = Buffer.alloc(0);
          client.write(Buffer.concat(forward), () => {
            down(trap.downForMs);
            trap.fired();
          });
          return;
        }
        forward.push(m);
      }
      if (forward.length) client.write(Buffer.concat(forward));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;

  return {
    url(databaseUrl) {
      const u = new URL(databaseUrl);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    arm(trap, options = {}) {
      return new Promise<void>((resolve) => {
        armed = { trap, downForMs: options.downForMs ?? 0, fired: resolve };
      });
    },
    down(ms) {
      down(ms);
    },
    up() {
      downUntil = 0;
    },
    async close() {
      armed = undefined;
      cutAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
