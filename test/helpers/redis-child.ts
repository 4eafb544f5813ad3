// A Redis server of the test's own, as its child process on a free port, so a test can kill,
// pause and restart it without touching the shared Redis other tests use.
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';

export interface RedisChild {
  port: number;
  url: string;
  /** Kills the server (SIGKILL: nothing is saved, every queued job is lost) and waits for it to exit. */
  kill(): Promise<void>;
  /** Pauses the server: connections stay open but nothing answers (SIGSTOP). */
  pause(): void;
  /** Resumes a paused server (SIGCONT). */
  resume(): void;
  /** Starts a fresh, empty server on the same port and waits until it answers. */
  restart(): Promise<void>;
  /** Resumes it, or starts it again if it was killed. */
  ensureRunning(): Promise<void>;
  close(): Promise<void>;
}

/** A port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const done = (ok: boolean) => (socket.destroy(), resolve(ok));
    socket.setTimeout(500, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (d) => done(d.toString().startsWith('+PONG')));
  });
}

/** Starts `redis-server --port N --save '' --appendonly no` as a child of this process. */
export async function startRedisChild(): Promise<RedisChild> {
  const port = await freePort();
  let child: ChildProcess | undefined;

  async function start(): Promise<void> {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    const deadline = Date.now() + 10_000;
    while (!(await answersPing(port))) {
      if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async function kill(): Promise<void> {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((resolve) => c.once('exit', resolve));
    c.kill('SIGCONT'); // a paused server cannot die otherwise
    c.kill('SIGKILL');
    await exited;
  }

  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    kill,
    pause: () => void child?.kill('SIGSTOP'),
    resume: () => void child?.kill('SIGCONT'),
    async restart() {
      await kill();
      await start();
    },
    async ensureRunning() {
      if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGCONT');
      else await start();
    },
    close: kill,
  };
}
