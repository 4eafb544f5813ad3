// A fake of Slack's Web API: records every call the gateway makes and answers like Slack does,
// as strictly: a wrong token gets invalid_auth, a block over Slack's limits invalid_blocks, an
// over-long text msg_too_long, an invalid modal invalid_arguments (see slack-block-rules.ts).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkMessage, checkView } from './slack-block-rules.js';

export interface SlackCall {
  method: string;
  token: string | undefined;
  /** The form fields, with `blocks`, `view` and `attachments` decoded from their JSON strings. */
  args: Record<string, any>;
  at: number;
}

type Failure = { status?: number; retryAfter?: number; error?: string; match?: (args: Record<string, any>) => boolean };

/** A Slack account as users.info describes it; unset flags default to an ordinary, confirmed member. */
export interface FakeSlackUser {
  email?: string;
  /** `is_email_confirmed`; true unless set false. */
  emailConfirmed?: boolean;
  deleted?: boolean;
  isBot?: boolean;
  /** The account's workspace; the installed one unless set. */
  teamId?: string;
}

export interface FakeSlackOptions {
  /** The bot token Slack accepts; any other gets invalid_auth. */
  token?: string;
  /** The workspace the app is installed in (auth.test's team_id). */
  teamId?: string;
}

export interface FakeSlack {
  url: string;
  calls: SlackCall[];
  /** Slack users by id, for users.info. */
  users: Map<string, FakeSlackUser>;
  /** Calls Slack refused for breaking its rules (not the ones made to fail with failNext). */
  refused: { call: SlackCall; answer: Record<string, unknown> }[];
  /** Makes the next `times` calls of `method` fail as described. */
  failNext(method: string, failure: Failure, times?: number): void;
  callsOf(method: string): SlackCall[];
  /** Calls `listener` with every call from now on. */
  onCall(listener: (call: SlackCall) => void): void;
  waitFor(predicate: (calls: SlackCall[]) => boolean, timeoutMs?: number): Promise<SlackCall[]>;
  close(): Promise<void>;
}

const JSON_FIELDS = ['blocks', 'view', 'attachments'];

/** Starts the fake on a random local port. */
export async function startFakeSlack(options: FakeSlackOptions = {}): Promise<FakeSlack> {
  const expectedToken = options.token ?? 'xoxb-test';
  const teamId = options.teamId ?? 'T1';
  const calls: SlackCall[] = [];
  const refused: FakeSlack['refused'] = [];
  const users = new Map<string, FakeSlackUser>();
  const failures = new Map<string, Failure[]>();
  const listeners: ((call: SlackCall) => void)[] = [];
  let ts = 1_700_000_000;

  /** Slack's refusal of a call that breaks its rules, or null. */
  const rulesBroken = (method: string, token: string | undefined, args: Record<string, any>): Record<string, unknown> | null => {
    if (token !== expectedToken) return { ok: false, error: token ? 'invalid_auth' : 'not_authed' };
    if (method === 'chat.postMessage' || method === 'chat.update' || method === 'chat.postEphemeral') return checkMessage(args);
    if (method === 'views.open') return checkView(args.view);
    return null;
  };

  const answer = (method: string, args: Record<string, any>): Record<string, unknown> => {
    switch (method) {
      case 'auth.test':
        return { ok: true, user_id: 'UBOT', bot_id: 'BBOT', team_id: teamId, team: 'acme' };
      case 'chat.postMessage': {
        // A message to a user id lands in the bot's DM with them.
        const channel = /^U/.test(args.channel) ? `D${args.channel.slice(1)}` : args.channel;
        return { ok: true, channel, ts: `${ts++}.000100`, message: { text: args.text } };
      }
      case 'chat.update':
        return { ok: true, channel: args.channel, ts: args.ts };
      case 'chat.postEphemeral':
        return { ok: true, message_ts: `${ts++}.000200` };
      case 'views.open':
        return { ok: true, view: { id: 'V1' } };
      case 'users.info': {
        const u = users.get(args.user);
        if (!u) return { ok: false, error: 'user_not_found' };
        const user = {
          id: args.user,
          team_id: u.teamId ?? teamId,
          name: args.user.toLowerCase(),
          deleted: u.deleted ?? false,
          is_bot: u.isBot ?? false,
          is_app_user: false,
          is_email_confirmed: u.emailConfirmed ?? true,
          profile: { email: u.email, real_name: args.user },
        };
        return { ok: true, user };
      }
      default:
        return { ok: true };
    }
  };

  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      const method = (req.url ?? '').replace(/^\/api\//, '').split('?')[0];
      const type = req.headers['content-type'] ?? '';
      const args: Record<string, any> = type.includes('json') ? JSON.parse(raw || '{}') : Object.fromEntries(new URLSearchParams(raw));
      for (const f of JSON_FIELDS) if (typeof args[f] === 'string') args[f] = JSON.parse(args[f]);
      const token = req.headers.authorization?.replace(/^Bearer /, '') ?? args.token;
      const call = { method, token, args, at: Date.now() };
      calls.push(call);
      for (const listener of listeners) listener(call);
      const queue = failures.get(method) ?? [];
      const index = queue.findIndex((f) => !f.match || f.match(args));
      const failure = index >= 0 ? queue.splice(index, 1)[0] : undefined;
      if (failure) {
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        if (failure.retryAfter !== undefined) headers['retry-after'] = String(failure.retryAfter);
        res.writeHead(failure.status ?? 200, headers);
        res.end(JSON.stringify({ ok: false, error: failure.error ?? 'ratelimited' }));
        return;
      }
      const broken = rulesBroken(method, token, args);
      if (broken) refused.push({ call, answer: broken });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(broken ?? answer(method, args)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/api/`,
    calls,
    users,
    refused,
    failNext(method, failure, times = 1) {
      const queue = failures.get(method) ?? [];
      for (let i = 0; i < times; i++) queue.push(failure);
      failures.set(method, queue);
    },
    onCall(listener) {
      listeners.push(listener);
    },
    callsOf(method) {
      return calls.filter((c) => c.method === method);
    },
    async waitFor(predicate, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        if (predicate(calls)) return calls;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(`fake Slack: condition not met in ${timeoutMs} ms; calls: ${calls.map((c) => c.method).join(', ')}`);
    },
    close() {
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
