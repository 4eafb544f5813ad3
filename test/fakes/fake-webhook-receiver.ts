// A webhook receiver as strict as a real one: every request is verified with the
// `standardwebhooks` package (Webhook.verify: signature, id, and a timestamp within 5 minutes of
// now), and a bad one is refused with 400. It can also answer 500 a number of times, hang, or
// answer slowly, to drive retries and timeouts.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface ReceivedWebhook {
  path: string;
  method: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** The parsed body when the signature verified; undefined when refused. */
  verified: unknown;
  /** Why verification failed, when it did. */
  refusal?: string;
  /** What the receiver answered (null: it hung). */
  answered: number | null;
  at: number;
}

export interface FakeWebhookReceiver {
  url: string;
  port: number;
  received: ReceivedWebhook[];
  /** The secret a request must be signed with (as a real receiver is configured with one). */
  setSecret(secret: string): void;
  /** Answers `status` (default 500) to the next `n` verified requests. */
  failNext(n: number, status?: number, body?: string): void;
  /** Answers `status` with `headers` to every verified request from now on (e.g. a 302). */
  answerAlways(status: number, headers?: Record<string, string>, body?: string): void;
  /** Never answers (until stop) requests from now on. */
  hang(): void;
  /** Waits `ms` before answering. */
  slow(ms: number): void;
  /** Back to answering 200 at once. */
  reset(): void;
  /** Resolves when `count` requests have arrived (default: one more than now). */
  waitFor(count?: number, timeoutMs?: number): Promise<ReceivedWebhook[]>;
  stop(): Promise<void>;
}

export async function startFakeWebhookReceiver(secret?: string): Promise<FakeWebhookReceiver> {
  let current = secret;
  let failures: { n: number; status: number; body: string } = { n: 0, status: 500, body: '' };
  let always: { status: number; headers: Record<string, string>; body: string } | undefined;
  let hanging = false;
  let delayMs = 0;
  const received: ReceivedWebhook[] = [];
  const waiters = new Set<() => void>();

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const entry: ReceivedWebhook = { path: req.url ?? '', method: req.method ?? '', headers: req.headers, body, verified: undefined, answered: null, at: Date.now() };
      received.push(entry);
      for (const w of waiters) w();
      const answer = (status: number, text: string, headers: Record<string, string> = {}) => {
        entry.answered = status;
        res.writeHead(status, { 'content-type': 'text/plain', ...headers });
        res.end(text);
      };
      if (!current) return answer(500, 'receiver has no secret configured');
      try {
        entry.verified = new Webhook(current).verify(body, req.headers as Record<string, string>);
      } catch (error) {
        entry.refusal = (error as Error).message;
        return answer(400, `bad signature: ${entry.refusal}`);
      }
      if (req.method !== 'POST' || req.headers['content-type'] !== 'application/json') return answer(415, 'expected a JSON POST');
      if (hanging) return;
      const respond = () => {
        if (failures.n > 0) {
          failures.n--;
          return answer(failures.status, failures.body);
        }
        if (always) return answer(always.status, always.body, always.headers);
        answer(200, 'ok');
      };
      if (delayMs > 0) setTimeout(respond, delayMs);
      else respond();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}/hooks`,
    port,
    received,
    setSecret: (s) => void (current = s),
    failNext: (n, status = 500, body = 'receiver error') => void (failures = { n, status, body }),
    answerAlways: (status, headers = {}, body = '') => void (always = { status, headers, body }),
    hang: () => void (hanging = true),
    slow: (ms) => void (delayMs = ms),
    reset: () => {
      failures = { n: 0, status: 500, body: '' };
      always = undefined;
      hanging = false;
      delayMs = 0;
    },
    waitFor(count = received.length + 1, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (received.length < count) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(received.slice());
        };
        const timer = setTimeout(() => (waiters.delete(check), reject(new Error(`the receiver got ${received.length} of ${count} requests in ${timeoutMs} ms`))), timeoutMs);
        waiters.add(check);
        check();
      });
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
