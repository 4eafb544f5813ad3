// A fake Microsoft Teams Workflows webhook ("Post to a channel when a webhook request is
// received"), as strict as the real one where it matters to us: POST of JSON only, the signed URL
// (a wrong or missing sig= is refused with 401), the message envelope with exactly one Adaptive
// Card, known element types, Action.OpenUrl buttons with absolute http(s) URLs, and Teams' ~28 KB
// message limit (413). It answers 202 Accepted with no body, as Workflows does, and keeps the cards
// it accepted. It can be told to answer 429 with Retry-After, 500, or nothing at all (hang).
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface AcceptedCard {
  /** The flow the card was posted to (the URL's path). */
  path: string;
  card: any;
  body: any;
  bytes: number;
}

type Failure = { status: 429; retryAfter?: string } | { status: 500 } | { status: 'hang' };

const ELEMENT_TYPES = new Set(['TextBlock', 'FactSet', 'Container', 'ColumnSet', 'Column', 'RichTextBlock', 'Image', 'ActionSet', 'Table']);
/** Teams refuses messages over about 28 KB. */
export const TEAMS_MAX_BYTES = 28 * 1024;

export interface FakeTeams {
  /** A valid Workflows URL of flow `name` (its own path, the fake's signature). */
  urlOf(name?: string): string;
  /** The same flow with a signature the fake refuses. */
  badSignatureUrl(name?: string): string;
  /** Cards accepted, in order. */
  accepted: AcceptedCard[];
  /** Every request received, answered or not, with its status ('hang' for one never answered). */
  requests: { path: string; query: string; status: number | 'hang' }[];
  /** The next `times` posts fail as told. */
  failNext(failure: Failure, times?: number): void;
  close(): Promise<void>;
}

function problems(body: any): string[] {
  const out: string[] = [];
  if (body?.type !== 'message') out.push('type must be "message"');
  if (!Array.isArray(body?.attachments) || body.attachments.length !== 1) return [...out, 'attachments must hold exactly one card'];
  const a = body.attachments[0];
  if (a.contentType !== 'application/vnd.microsoft.card.adaptive') out.push('attachments[0].contentType must be application/vnd.microsoft.card.adaptive');
  const c = a.content;
  if (c?.type !== 'AdaptiveCard') return [...out, 'attachments[0].content.type must be AdaptiveCard'];
  if (typeof c.version !== 'string' || !/^1\.\d$/.test(c.version)) out.push('content.version must be a version such as "1.5"');
  if (!Array.isArray(c.body) || c.body.length === 0) out.push('content.body must be a non-empty array');
  const walk = (el: any, where: string) => {
    if (!ELEMENT_TYPES.has(el?.type)) return out.push(`${where}: unknown element type ${JSON.stringify(el?.type)}`);
    if (el.type === 'TextBlock' && (typeof el.text !== 'string' || el.text === '')) out.push(`${where}: a TextBlock needs a text`);
    if (el.type === 'FactSet' && !(Array.isArray(el.facts) && el.facts.every((f: any) => typeof f.title === 'string' && typeof f.value === 'string'))) out.push(`${where}: facts need a title and a value`);
    for (const [k, list] of [['items', el.items], ['columns', el.columns]] as const) if (Array.isArray(list)) list.forEach((x: any, i: number) => walk(x, `${where}.${k}[${i}]`));
    if (el.type === 'ActionSet') (el.actions ?? []).forEach((x: any, i: number) => action(x, `${where}.actions[${i}]`));
  };
  const action = (x: any, where: string) => {
    if (x?.type !== 'Action.OpenUrl') return out.push(`${where}: ${JSON.stringify(x?.type)} needs a bot; a Workflows webhook posts Action.OpenUrl only`);
    if (typeof x.title !== 'string' || !x.title) out.push(`${where}: an action needs a title`);
    let ok = false;
    try {
      const u = new URL(x.url);
      ok = u.protocol === 'https:' || u.protocol === 'http:';
    } catch {
      ok = false;
    }
    if (!ok) out.push(`${where}: Action.OpenUrl needs an absolute http(s) url`);
  };
  (c.body ?? []).forEach((el: any, i: number) => walk(el, `body[${i}]`));
  if (c.actions !== undefined && !Array.isArray(c.actions)) out.push('content.actions must be an array');
  (c.actions ?? []).forEach((x: any, i: number) => action(x, `actions[${i}]`));
  return out;
}

/** Starts the fake on a free local port. */
export async function startFakeTeams(): Promise<FakeTeams> {
  const sig = randomBytes(12).toString('base64url');
  const accepted: AcceptedCard[] = [];
  const requests: FakeTeams['requests'] = [];
  const failures: Failure[] = [];
  const sockets = new Set<Socket>();

  const answer = (req: IncomingMessage, res: ServerResponse, status: number, body?: unknown) => {
    const u = new URL(req.url ?? '/', 'http://x');
    requests.push({ path: u.pathname, query: u.search, status });
    if (body === undefined) res.writeHead(status).end();
    else res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= TEAMS_MAX_BYTES + 1) chunks.push(c);
    });
    req.on('end', () => {
      const u = new URL(req.url ?? '/', 'http://x');
      if (req.method !== 'POST') return answer(req, res, 405, { error: { code: 'MethodNotAllowed', message: `${req.method} is not allowed; POST a message` } });
      // A worst case for secrets: the real service's errors name the request; ours echo the whole URL.
      if (u.searchParams.get('sig') !== sig) return answer(req, res, 401, { error: { code: 'DirectApiAuthorizationRequired', message: `The request to ${req.url} has an invalid signature.` } });
      const failure = failures.shift();
      if (failure?.status === 'hang') {
        requests.push({ path: u.pathname, query: u.search, status: 'hang' });
        return; // never answered: the client's timeout must end it
      }
      if (failure?.status === 429) {
        requests.push({ path: u.pathname, query: u.search, status: 429 });
        return res.writeHead(429, { 'retry-after': failure.retryAfter ?? '7', 'content-type': 'application/json' }).end('{"error":{"code":"TooManyRequests"}}');
      }
      if (failure?.status === 500) return answer(req, res, 500, { error: { code: 'InternalServerError', message: `Flow failed for ${req.url}` } });
      if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) return answer(req, res, 415, { error: { code: 'UnsupportedMediaType', message: 'Send application/json' } });
      if (size > TEAMS_MAX_BYTES) return answer(req, res, 413, { error: { code: 'MessageSizeTooBig', message: `The message is ${size} bytes; the limit is about 28 KB` } });
      let body: any;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return answer(req, res, 400, { error: { code: 'InvalidRequestContent', message: 'The body is not JSON' } });
      }
      const found = problems(body);
      if (found.length) return answer(req, res, 400, { error: { code: 'InvalidRequestContent', message: found.join('; ') } });
      accepted.push({ path: u.pathname, card: body.attachments[0].content, body, bytes: size });
      answer(req, res, 202);
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const flow = (name: string, s: string) => `${base}/workflows/${name}/triggers/manual/paths/invoke?api-version=1&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=${s}`;
  return {
    urlOf: (name = 'default') => flow(name, sig),
    badSignatureUrl: (name = 'default') => flow(name, `${sig}x`),
    accepted,
    requests,
    failNext(failure, times = 1) {
      for (let i = 0; i < times; i++) failures.push(failure);
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
