// A fake of Slack's Web API: records every call the gateway makes and answers like Slack does,
// as strictly: a wrong token gets invalid_auth, a block over Slack's limits invalid_blocks, an
// over-long text msg_too_long, an invalid modal invalid_arguments (see slack-block-rules.ts).
// It keeps the messages posted (with their message metadata, returned by conversations.history
// and conversations.replies only with include_all_metadata, as Slack does), updates them in place
// (message_not_found for one it does not hold) and can fail the way Slack does: refuse before
// acting (429 with Retry-After, errors), or act and then answer late or with a 5xx.
// Channels registered in `channels` behave as Slack's do for a bot that is or is not a member:
// conversations.info (channel_not_found for one it does not know, or a private one the bot is not
// in), conversations.history/replies (not_in_channel), chat.postMessage (is_archived, and
// channel_not_found in a private channel the bot is not in). The app has the bot scopes of
// manifest.yml unless told otherwise: conversations.info without channels:read answers missing_scope.
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkHomeView, checkMessage, checkView } from './slack-block-rules.js';

export interface SlackCall {
  method: string;
  token: string | undefined;
  /** The form fields, with `blocks`, `view` and `attachments` decoded from their JSON strings. */
  args: Record<string, any>;
  at: number;
}

/**
 * How one call fails. By default Slack does nothing and answers `status` (200) with
 * `{ok: false, error}` ('ratelimited'). `act`: Slack does the work first (the message is posted),
 * then answers with the failure, or with its normal answer when neither status nor error is set.
 * `delayMs`: the answer comes this late (after the client's timeout, say). `actAfterMs`: Slack
 * does the work only this late, and answers then (a request stuck inside Slack).
 */
type Failure = { status?: number; retryAfter?: number; error?: string; act?: boolean; delayMs?: number; actAfterMs?: number; match?: (args: Record<string, any>) => boolean; label?: string };

/** A message Slack holds, as conversations.history describes it (plus its channel). */
export interface FakeMessage {
  channel: string;
  ts: string;
  thread_ts?: string;
  text?: string;
  blocks?: unknown[];
  metadata?: { event_type: string; event_payload: Record<string, unknown> };
  user: string;
  bot_id: string;
}

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

/**
 * A per-method rate limit as Slack applies it ("per API method per app per workspace", counted in
 * a window; chat.postMessage also per channel): past `limit` calls in the current `windowMs`, a call
 * gets HTTP 429 `{ok: false, error: 'ratelimited'}` with `Retry-After` in whole seconds until the
 * window ends, and Slack does nothing. Slack's own figures (api.slack.com/apis/rate-limits):
 * chat.update is Tier 3, 50+ per minute; chat.postMessage is special, about 1 per second per channel
 * with short bursts, and a workspace-wide limit. Tests and benches set them lower or higher to get
 * many 429s in reasonable time.
 */
export interface FakeRateLimit {
  limit: number;
  windowMs: number;
  /** Counted per channel (chat.postMessage), not per method only. */
  perChannel?: boolean;
}

/** Slack's own limits, per minute, for a test that wants them as they are. */
export const SLACK_RATE_LIMITS: Record<string, FakeRateLimit> = {
  'chat.update': { limit: 50, windowMs: 60_000 },
  'chat.postMessage': { limit: 60, windowMs: 60_000, perChannel: true },
};

/** A channel Slack knows, as conversations.info describes it to the bot. */
export interface FakeChannel {
  name: string;
  isPrivate?: boolean;
  /** The bot is in it (default true). */
  isMember?: boolean;
  isArchived?: boolean;
}

/** The bot scopes manifest.yml asks for: what an app installed from it gets. */
export function manifestScopes(): string[] {
  const text = readFileSync(new URL('../../manifest.yml', import.meta.url), 'utf8');
  const bot = text.split(/\n\s*bot:\s*\n/)[1] ?? '';
  const scopes: string[] = [];
  for (const line of bot.split('\n')) {
    const m = /^\s*-\s*([a-z.:_]+)/.exec(line);
    if (!m) break;
    scopes.push(m[1]);
  }
  return scopes;
}

export interface FakeSlackOptions {
  /** The bot's scopes (default: those of manifest.yml). */
  scopes?: string[];
  /** The bot token Slack accepts; any other gets invalid_auth. */
  token?: string;
  /** The workspace the app is installed in (auth.test's team_id). */
  teamId?: string;
  /** Rate limits by method; none unless set (see setRateLimits). */
  rateLimits?: Record<string, FakeRateLimit>;
}

export interface FakeSlack {
  url: string;
  calls: SlackCall[];
  /** Slack users by id, for users.info. */
  users: Map<string, FakeSlackUser>;
  /** Channels Slack knows, by id; unregistered ones are still accepted by chat.postMessage (as with chat:write.public). */
  channels: Map<string, FakeChannel>;
  /** Calls Slack refused for breaking its rules (not the ones made to fail with failNext). */
  refused: { call: SlackCall; answer: Record<string, unknown> }[];
  /** Every message posted and not deleted, in the order posted, as last updated. */
  messages: FakeMessage[];
  /** Calls answered 429 by a rate limit (not the ones made to fail with failNext). */
  rateLimited: SlackCall[];
  /** The Home tab each user sees: the last view published to them (views.publish). */
  homes: Map<string, { type: 'home'; blocks: any[]; callback_id?: string }>;
  /** Replaces the rate limits (an empty object switches them off); counting starts afresh. */
  setRateLimits(limits: Record<string, FakeRateLimit>): void;
  /** Makes the next `times` calls of `method` fail as described. */
  failNext(method: string, failure: Failure, times?: number): void;
  /** The failures set with failNext that no call has met yet (a test checks its fault happened). */
  unusedFailures(): Failure[];
  callsOf(method: string): SlackCall[];
  /** Calls `listener` with every call from now on. */
  onCall(listener: (call: SlackCall) => void): void;
  waitFor(predicate: (calls: SlackCall[]) => boolean, timeoutMs?: number): Promise<SlackCall[]>;
  close(): Promise<void>;
}

const JSON_FIELDS = ['blocks', 'view', 'attachments', 'metadata'];

/** Slack's form booleans: true, 1. */
const truthy = (v: unknown) => v === true || v === 'true' || v === '1' || v === 1;

/** invalid_metadata_format unless `metadata` is Slack's shape: an event_type and an event_payload object. */
function checkMetadata(metadata: unknown): Record<string, unknown> | null {
  if (metadata === undefined) return null;
  const m = metadata as { event_type?: unknown; event_payload?: unknown };
  if (typeof m !== 'object' || m === null || typeof m.event_type !== 'string' || !/^[A-Za-z0-9_]+$/.test(m.event_type)) return { ok: false, error: 'invalid_metadata_format' };
  if (typeof m.event_payload !== 'object' || m.event_payload === null || Array.isArray(m.event_payload)) return { ok: false, error: 'invalid_metadata_format' };
  return null;
}

/** Slack's cursor: opaque to the client; here the offset of the next page. */
const cursorOf = (offset: number) => Buffer.from(`next:${offset}`).toString('base64');
const offsetOf = (cursor: unknown) => (typeof cursor === 'string' && cursor ? Number(Buffer.from(cursor, 'base64').toString().replace(/^next:/, '')) || 0 : 0);
const tsNumber = (ts: string) => Number(ts);

/** Starts the fake on a random local port. */
export async function startFakeSlack(options: FakeSlackOptions = {}): Promise<FakeSlack> {
  const expectedToken = options.token ?? 'xoxb-test';
  const teamId = options.teamId ?? 'T1';
  const calls: SlackCall[] = [];
  const refused: FakeSlack['refused'] = [];
  const users = new Map<string, FakeSlackUser>();
  const channels = new Map<string, FakeChannel>();
  const scopes = options.scopes ?? manifestScopes();
  /** A registered channel the bot cannot read: Slack's answer, or null. */
  const channelRefusal = (id: unknown, method: string): Record<string, unknown> | null => {
    const ch = typeof id === 'string' ? channels.get(id) : undefined;
    if (!ch) return null;
    const member = ch.isMember ?? true;
    if (ch.isPrivate && !member) return { ok: false, error: 'channel_not_found' };
    if (method === 'chat.postMessage') return ch.isArchived ? { ok: false, error: 'is_archived' } : null;
    return member ? null : { ok: false, error: 'not_in_channel' };
  };
  const failures = new Map<string, Failure[]>();
  const listeners: ((call: SlackCall) => void)[] = [];
  const messages: FakeMessage[] = [];
  const lateAnswers = new Set<NodeJS.Timeout>();
  const rateLimited: SlackCall[] = [];
  const homes: FakeSlack['homes'] = new Map();
  let rateLimits: Record<string, FakeRateLimit> = { ...options.rateLimits };
  // Fixed windows: key (method, or method and channel) → the window's start and its calls so far.
  let windows = new Map<string, { start: number; count: number }>();
  /** Seconds to wait when `call` is over its method's limit, else null (and the call is counted). */
  const overLimit = (call: SlackCall): number | null => {
    const rule = rateLimits[call.method];
    if (!rule) return null;
    const key = rule.perChannel ? `${call.method} ${channelOf(String(call.args.channel ?? ''))}` : call.method;
    const now = Date.now();
    let w = windows.get(key);
    if (!w || now >= w.start + rule.windowMs) windows.set(key, (w = { start: now, count: 0 }));
    if (w.count < rule.limit) {
      w.count++;
      return null;
    }
    return Math.max(1, Math.ceil((w.start + rule.windowMs - now) / 1000));
  };
  // Message timestamps are Slack's: seconds and microseconds of the current time, unique per message.
  let lastMicros = 0;
  const nextTs = () => {
    lastMicros = Math.max(lastMicros + 1, Date.now() * 1000);
    return `${Math.floor(lastMicros / 1e6)}.${String(lastMicros % 1e6).padStart(6, '0')}`;
  };
  const dmOf = (user: string) => `D${user.slice(1)}`;
  const channelOf = (channel: string) => (/^[UW]/.test(channel) ? dmOf(channel) : channel);
  const shown = (m: FakeMessage, withMetadata: boolean) => {
    const { channel: _channel, metadata, ...rest } = m;
    return { type: 'message', ...rest, ...(withMetadata && metadata ? { metadata } : {}) };
  };
  /** A page of `list` from the call's cursor, as Slack pages: limit (default 100, at most 999), has_more, next_cursor. */
  const page = (list: unknown[], args: Record<string, any>) => {
    const limit = Math.min(Math.max(Number(args.limit) || 100, 1), 999);
    const from = offsetOf(args.cursor);
    const items = list.slice(from, from + limit);
    const more = from + limit < list.length;
    return { items, has_more: more, response_metadata: { next_cursor: more ? cursorOf(from + limit) : '' } };
  };
  const inWindow = (m: FakeMessage, args: Record<string, any>) => {
    const inclusive = truthy(args.inclusive);
    const t = tsNumber(m.ts);
    if (args.oldest !== undefined && (inclusive ? t < Number(args.oldest) : t <= Number(args.oldest))) return false;
    if (args.latest !== undefined && (inclusive ? t > Number(args.latest) : t >= Number(args.latest))) return false;
    return true;
  };

  /** Slack's refusal of a call that breaks its rules, or null. */
  const rulesBroken = (method: string, token: string | undefined, args: Record<string, any>): Record<string, unknown> | null => {
    if (token !== expectedToken) return { ok: false, error: token ? 'invalid_auth' : 'not_authed' };
    if (['chat.postMessage', 'conversations.history', 'conversations.replies'].includes(method)) {
      const refusal = channelRefusal(args.channel, method);
      if (refusal) return refusal;
    }
    if (method === 'chat.postMessage' || method === 'chat.update') return checkMessage(args) ?? checkMetadata(args.metadata);
    if (method === 'chat.postEphemeral') return checkMessage(args);
    if (method === 'views.open') return checkView(args.view);
    if (method === 'views.publish') return checkHomeView(args);
    return null;
  };

  const answer = (method: string, args: Record<string, any>): Record<string, unknown> => {
    switch (method) {
      case 'auth.test':
        return { ok: true, url: 'https://acme.slack.com/', team: 'acme', user: 'hoop', team_id: teamId, user_id: 'UBOT', bot_id: 'BBOT', is_enterprise_install: false };
      case 'conversations.info': {
        const ch = channels.get(String(args.channel ?? ''));
        const needed = ch?.isPrivate ? 'groups:read' : 'channels:read';
        if (!scopes.includes(needed) && (ch || !scopes.some((x) => x === 'channels:read' || x === 'groups:read'))) {
          return { ok: false, error: 'missing_scope', needed, provided: scopes.join(',') };
        }
        const member = ch?.isMember ?? true;
        if (!ch || (ch.isPrivate && !member)) return { ok: false, error: 'channel_not_found' };
        const id = String(args.channel);
        return {
          ok: true,
          channel: { id, name: ch.name, is_channel: !ch.isPrivate, is_group: false, is_im: false, is_private: Boolean(ch.isPrivate), is_archived: Boolean(ch.isArchived), is_general: false, is_member: member, created: 1700000000, creator: 'UADMIN' },
        };
      }
      case 'chat.postMessage': {
        if (!args.channel) return { ok: false, error: 'channel_not_found' };
        // A message to a user id lands in the bot's DM with them.
        const channel = channelOf(args.channel);
        const m: FakeMessage = { channel, ts: nextTs(), text: args.text, blocks: args.blocks, user: 'UBOT', bot_id: 'BBOT' };
        if (args.thread_ts) m.thread_ts = args.thread_ts;
        if (args.metadata) m.metadata = args.metadata;
        messages.push(m);
        return { ok: true, channel, ts: m.ts, message: shown(m, false) };
      }
      case 'chat.update': {
        const m = messages.find((x) => x.channel === channelOf(args.channel ?? '') && x.ts === args.ts);
        if (!m) return { ok: false, error: 'message_not_found' };
        if (args.text !== undefined) m.text = args.text;
        if (args.blocks !== undefined) m.blocks = args.blocks;
        if (args.metadata !== undefined) m.metadata = args.metadata;
        return { ok: true, channel: m.channel, ts: m.ts, text: m.text };
      }
      case 'chat.postEphemeral':
        return { ok: true, message_ts: nextTs() };
      case 'conversations.open': {
        const users = String(args.users ?? '').split(',').filter(Boolean);
        if (users.length === 0) return { ok: false, error: 'users_list_not_supplied' };
        if (users.length > 1) return { ok: true, channel: { id: `G${users.join('').replace(/[^A-Z0-9]/g, '').slice(0, 10)}` } };
        return { ok: true, channel: { id: dmOf(users[0]) } };
      }
      case 'conversations.history': {
        if (!args.channel) return { ok: false, error: 'channel_not_found' };
        const channel = channelOf(args.channel);
        // The channel's timeline, newest first: thread replies are not in it (conversations.replies).
        const timeline = messages.filter((m) => m.channel === channel && (!m.thread_ts || m.thread_ts === m.ts) && inWindow(m, args)).reverse();
        const p = page(timeline, args);
        return { ok: true, messages: p.items.map((m) => shown(m as FakeMessage, truthy(args.include_all_metadata))), has_more: p.has_more, response_metadata: p.response_metadata };
      }
      case 'conversations.replies': {
        if (!args.channel) return { ok: false, error: 'channel_not_found' };
        const channel = channelOf(args.channel);
        const parent = messages.find((m) => m.channel === channel && m.ts === args.ts && !m.thread_ts);
        if (!parent) return { ok: false, error: 'thread_not_found' };
        const replies = messages.filter((m) => m.channel === channel && m.thread_ts === parent.ts && inWindow(m, args));
        const p = page([parent, ...replies], args);
        return { ok: true, messages: p.items.map((m) => shown(m as FakeMessage, truthy(args.include_all_metadata))), has_more: p.has_more, response_metadata: p.response_metadata };
      }
      case 'views.open':
        return { ok: true, view: { id: 'V1' } };
      case 'views.publish': {
        homes.set(args.user_id, args.view);
        return { ok: true, view: { id: `VHOME${args.user_id}`, team_id: teamId, ...args.view, hash: String(Date.now()) } };
      }
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
      // A field that is not JSON stays a string: the rules then refuse it, as Slack does.
      for (const f of JSON_FIELDS) {
        if (typeof args[f] !== 'string') continue;
        try {
          args[f] = JSON.parse(args[f]);
        } catch {
          // left as sent
        }
      }
      const token = req.headers.authorization?.replace(/^Bearer /, '') ?? args.token;
      const call = { method, token, args, at: Date.now() };
      calls.push(call);
      for (const listener of listeners) listener(call);
      const wait = overLimit(call);
      if (wait !== null) {
        rateLimited.push(call);
        res.writeHead(429, { 'content-type': 'application/json', 'retry-after': String(wait) });
        res.end(JSON.stringify({ ok: false, error: 'ratelimited' }));
        return;
      }
      const queue = failures.get(method) ?? [];
      const index = queue.findIndex((f) => !f.match || f.match(args));
      const failure = index >= 0 ? queue.splice(index, 1)[0] : undefined;
      const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
        const write = () => {
          if (res.destroyed) return;
          res.writeHead(status, { 'content-type': 'application/json', ...headers });
          res.end(JSON.stringify(body));
        };
        if (!failure?.delayMs) return write();
        const timer = setTimeout(() => (lateAnswers.delete(timer), write()), failure.delayMs);
        lateAnswers.add(timer);
      };
      const failWith = (f: Failure) => send(f.status ?? 200, { ok: false, error: f.error ?? 'ratelimited' }, f.retryAfter !== undefined ? { 'retry-after': String(f.retryAfter) } : {});
      if (failure?.actAfterMs !== undefined) {
        const timer = setTimeout(() => {
          lateAnswers.delete(timer);
          const broken = rulesBroken(method, token, args);
          if (broken) refused.push({ call, answer: broken });
          const body = broken ?? answer(method, args);
          if (res.destroyed) return;
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify(body));
        }, failure.actAfterMs);
        lateAnswers.add(timer);
        return;
      }
      if (failure && !failure.act) return failWith(failure);
      const broken = rulesBroken(method, token, args);
      if (broken) refused.push({ call, answer: broken });
      const body = broken ?? answer(method, args);
      if (failure && (failure.status !== undefined || failure.error !== undefined)) return failWith(failure);
      send(200, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/api/`,
    calls,
    users,
    channels,
    refused,
    messages,
    rateLimited,
    homes,
    setRateLimits(limits) {
      rateLimits = { ...limits };
      windows = new Map();
    },
    failNext(method, failure, times = 1) {
      const queue = failures.get(method) ?? [];
      for (let i = 0; i < times; i++) queue.push(failure);
      failures.set(method, queue);
    },
    unusedFailures() {
      return [...failures.values()].flat();
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
      for (const timer of lateAnswers) clearTimeout(timer);
      lateAnswers.clear();
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
