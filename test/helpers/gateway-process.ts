// A real gateway process (node with `npm start`'s flags on bin/gateway.mjs, or `npm start`) as a child of the test,
// for what only a process can show: signals, exit codes, what is left running afterwards.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REDIS_URL, uniqueName } from './databases.js';
import { ADMIN_KEY, deleteQueues } from './gateway.js';

export interface LogLine {
  msg?: string;
  [key: string]: unknown;
}

export interface GatewayProcess {
  child: ChildProcess;
  pid: number;
  /** JSON log lines so far (npm's own lines are skipped). */
  logs: LogLine[];
  output(): string;
  /** Resolves with the port once the gateway logs 'gateway listening'. */
  listening: Promise<number>;
  /** Resolves with the exit code (or signal) and the time of exit. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  waitForLog(test: (l: LogLine) => boolean, timeoutMs?: number, what?: string): Promise<LogLine>;
  api(method: string, path: string, options?: { key?: string; body?: unknown }): Promise<{ status: number; body: any; headers: Headers }>;
  /** SIGKILLs the process tree if still alive (test clean-up). */
  kill(): void;
  /** kill(), then deletes the process's queues from Redis. */
  dispose(): Promise<void>;
}

export const ROOT = new URL('../..', import.meta.url).pathname;

/**
 * The arguments `npm start` gives node (package.json: `exec node <flags> bin/gateway.mjs`), to run
 * a gateway exactly as production does without npm in between.
 */
export function productionArgv(): string[] {
  const scripts = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts as Record<string, string>;
  const match = /^exec node (.+)$/.exec(scripts.start);
  if (!match) throw new Error(`package.json's start script is not "exec node ...": ${scripts.start}`);
  return match[1].split(/\s+/);
}

/** The environment of a gateway process under test: its own queue prefix, port 0, quiet limits. */
export function gatewayEnv(databaseUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    DATABASE_URL: databaseUrl,
    REDIS_URL,
    PORT: '0',
    HOST: '127.0.0.1',
    ADMIN_API_KEY: ADMIN_KEY,
    ADMIN_EMAIL: 'root@example.com',
    QUEUE_PREFIX: uniqueName('gp'),
    RATE_LIMIT_SUBMITS: '100000',
    RATE_LIMIT_AUTH_FAILURES_PER_IP: '100000',
    RATE_LIMIT_AUTH_FAILURES_PER_KEY: '100000',
    CHECKPOINT_DISABLE: '1',
    LOG_LEVEL: 'info',
    // As in test/helpers/gateway.ts: previews only where a test asks for them.
    PREVIEW_DEFAULT_MODE: 'off',
    ...extra,
  };
}

/**
 * Starts a gateway process: node with `npm start`'s own arguments (the built bundle, which the test
 * command builds first: no TypeScript compiled per process), or through npm as a supervisor
 * would (`npm start`, `npm run worker`); ownGroup makes it (npm, or node) lead a process group of its own, to be
 * signalled as one (as systemd and a terminal do).
 */
export function startGatewayProcess(env: Record<string, string>, options: { npm?: 'start' | 'worker'; ownGroup?: boolean; argv?: readonly string[] } = {}): GatewayProcess {
  const child = options.npm
    ? spawn('npm', ['run', '--silent', options.npm], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: options.ownGroup ?? false })
    : spawn(process.execPath, [...(options.argv ?? productionArgv())], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: options.ownGroup ?? false });
  const logs: LogLine[] = [];
  let text = '';
  let partial = '';
  const watchers = new Set<() => void>();
  const onData = (d: Buffer) => {
    text += d;
    partial += d;
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.startsWith('{')) continue;
      try {
        logs.push(JSON.parse(line));
      } catch {
        /* not a log line */
      }
    }
    for (const w of watchers) w();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  let done = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) => {
    child.on('exit', (code, signal) => {
      const at = Date.now();
      done = true;
      for (const w of watchers) w();
      resolve({ code, signal, at });
    });
  });
  // Every process of the tree seen so far: one left behind is reparented and no longer a descendant.
  const seen = new Set<number>([child.pid!]);

  function waitForLog(test: (l: LogLine) => boolean, timeoutMs = 20_000, what = 'a log line'): Promise<LogLine> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const hit = logs.find(test);
        if (hit) return finish(() => resolve(hit));
        if (done) return finish(() => reject(new Error(`the gateway exited before ${what}:\n${text.slice(-3000)}`)));
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`timed out waiting for ${what}:\n${text.slice(-3000)}`))), timeoutMs);
      const finish = (f: () => void) => {
        clearTimeout(timer);
        watchers.delete(check);
        f();
      };
      watchers.add(check);
      check();
    });
  }

  const listening = waitForLog((l) => l.msg === 'gateway listening', 40_000, 'the gateway listening').then((l) => {
    for (const pid of descendants(child.pid!)) seen.add(pid);
    return Number(l.port);
  });
  listening.catch(() => {});
  return {
    child,
    pid: child.pid!,
    logs,
    output: () => text,
    listening,
    exited,
    waitForLog,
    async api(method, path, opts = {}) {
      const port = await listening;
      const headers: Record<string, string> = { authorization: `Bearer ${opts.key ?? ADMIN_KEY}` };
      if (opts.body !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(`http://127.0.0.1:${port}${path}`, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
      const raw = await res.text();
      let body: any = raw;
      try {
        body = JSON.parse(raw);
      } catch {
        /* not JSON */
      }
      return { status: res.status, body, headers: res.headers };
    },
    kill() {
      for (const pid of descendants(child.pid!)) seen.add(pid);
      for (const pid of seen) {
        // Only our own tree: a pid reused meanwhile by another process runs elsewhere.
        if (!runsHere(pid)) continue;
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    },
    async dispose() {
      this.kill();
      if (env.QUEUE_PREFIX) await deleteQueues(env.QUEUE_PREFIX);
    },
  };
}

function runsHere(pid: number): boolean {
  try {
    return readlinkSync(`/proc/${pid}/cwd`).replace(/\/?$/, '/') === ROOT;
  } catch {
    return false;
  }
}

/** Every live process below `pid` (children, grandchildren, ...), from `ps`. */
export function descendants(pid: number): number[] {
  const rows = execFileSync('ps', ['-e', '-o', 'pid=,ppid='], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((r) => r.trim().split(/\s+/).map(Number));
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [c, pp] of rows) if (pp === p) (out.push(c), walk(c));
  };
  walk(pid);
  return out;
}

/** True when a process with this pid is alive (a zombie is not). */
export function isAlive(pid: number): boolean {
  try {
    const state = execFileSync('ps', ['-o', 'stat=', '-p', String(pid)], { encoding: 'utf8' }).trim();
    return state !== '' && !state.startsWith('Z');
  } catch {
    return false;
  }
}

/** True when something accepts TCP connections on 127.0.0.1:port. */
export async function portOpen(port: number): Promise<boolean> {
  const net = await import('node:net');
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

/** `hoop exec CONNECTION -i INPUT` (the built CLI) against 127.0.0.1:port, killed by `cleanups`. */
export function hoopExec(port: number, key: string, connection: string, input: string, cleanups: Array<() => void | Promise<void>>) {
  const cli = spawn(process.execPath, [path.join(ROOT, 'bin/hoop.mjs'), 'exec', connection, '-i', input], {
    env: { PATH: process.env.PATH ?? '', HOME: mkdtempSync(path.join(tmpdir(), 'hoop-restart-')), HOOP_API_URL: `http://127.0.0.1:${port}`, HOOP_API_KEY: key, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  cleanups.push(() => void cli.kill('SIGKILL'));
  const out = { stdout: '', stderr: '' };
  cli.stdout.on('data', (d) => (out.stdout += d));
  cli.stderr.on('data', (d) => (out.stderr += d));
  const exit = new Promise<number | null>((resolve) => cli.on('close', resolve));
  return { out, exit };
}
