// MCP (issue 13) with the official MCP client: `hoop mcp` over stdio (the built CLI, spawned once)
// and Streamable HTTP at /mcp on one gateway. An agent lists connections, reads at once, submits
// a write that waits for a person, who approves it through the API, and gets the result from
// wait_review; refusals are tool errors in the API's words; /mcp authenticates like /api.
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOOL_NAMES } from '../../src/mcp/tools.js';
import { createTargetDatabase, REDIS_URL } from '../helpers/databases.js';
import { eventually, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { HOOP_BIN } from '../helpers/hoop-cli.js';

let t: TestGateway;
let target: Awaited<ReturnType<typeof createTargetDatabase>>;
let alice: { id: string; apiKey: string }; // a developer, owns the agent
let dana: { id: string; apiKey: string }; // a dba-team reviewer
let botKey: string; // ci-bot: an agent in developers
let stdio: Client;
let http: Client;
let httpTransport: StreamableHTTPClientTransport;
// Between `hoop mcp` and the gateway: records the Hoop-Mcp-Client header each API call carries.
let relay: Server;
const relayed: (string | undefined)[] = [];
let stdioStderr = '';
const stdioErrors: Error[] = [];

const WRITE = "UPDATE accounts SET note = 'fixed' WHERE id = 1";
const PROTOCOL = '2025-06-18';

type ToolAnswer = { isError?: boolean; content: { type: string; text: string }[]; structuredContent?: any };
const call = async (client: Client, name: string, args: Record<string, unknown>) => (await client.callTool({ name, arguments: args })) as ToolAnswer;
const text = (r: ToolAnswer) => r.content.map((c) => c.text).join('\n');

/** A raw JSON-RPC POST to /mcp, as a client other than the SDK's might send it. */
function rawMcp(body: unknown, headers: Record<string, string>) {
  return fetch(`${t.baseUrl}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers }, body: JSON.stringify(body) });
}
const initialize = (name: string) => ({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: PROTOCOL, capabilities: {}, clientInfo: { name, version: '1' } } });
const listTools = { jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} };

async function startRelay(to: string): Promise<string> {
  relay = createServer(async (req, res) => {
    relayed.push(req.headers['hoop-mcp-client'] as string | undefined);
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => !['host', 'connection', 'content-length'].includes(k))) as Record<string, string>;
    const answer = await fetch(to + req.url, { method: req.method, headers, body: chunks.length ? Buffer.concat(chunks) : undefined });
    res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
    res.end(Buffer.from(await answer.arrayBuffer()));
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(relay.address() as { port: number }).port}`;
}

beforeAll(async () => {
  target = await createTargetDatabase();
  await target.query("CREATE TABLE accounts (id int PRIMARY KEY, email text, note text); INSERT INTO accounts VALUES (1, 'carol@example.com', 'old'), (2, 'dave@example.com', 'old')");
  // Few failed authentications per key, so the test of blocking is quick; sessions bounded at 2.
  t = await startTestGateway({ slack: false, env: { RATE_LIMIT_AUTH_FAILURES_PER_KEY: '3', MCP_SESSIONS_PER_USER: '2' } });
  alice = await t.createUser('alice@example.com', ['developers']);
  dana = await t.createUser('dana@example.com', ['dba-team']);
  const made = await t.api('POST', '/api/connections', { body: { name: 'prod-db', url: target.url, reviewers: ['dba-team'], reviewMode: 'writes', maskColumns: ['email'] } });
  expect(made.status).toBe(201);
  botKey = (await t.api('POST', '/api/agents', { body: { name: 'ci-bot', owner: 'alice@example.com', groups: ['developers'] } })).body.apiKey;

  const relayUrl = await startRelay(t.baseUrl);
  const home = mkdtempSync(path.join(tmpdir(), 'hoop-mcp-'));
  stdio = new Client({ name: 'test-agent', version: '1.2.3' });
  const stdioTransport = new StdioClientTransport({ command: process.execPath, args: [HOOP_BIN, 'mcp'], env: { PATH: process.env.PATH ?? '', HOME: home, NO_COLOR: '1', HOOP_API_URL: relayUrl, HOOP_API_KEY: botKey }, stderr: 'pipe' });
  stdioTransport.stderr?.on('data', (d) => (stdioStderr += d));
  // Anything on stdout that is not a JSON-RPC message is reported here.
  stdio.onerror = (error) => stdioErrors.push(error);
  await stdio.connect(stdioTransport);
  httpTransport = new StreamableHTTPClientTransport(new URL(`${t.baseUrl}/mcp`), { requestInit: { headers: { authorization: `Bearer ${botKey}` } } });
  http = new Client({ name: 'http-agent', version: '9.9' });
  await http.connect(httpTransport);
});

afterAll(async () => {
  await stdio?.close();
  await http?.close();
  relay?.close();
  await t?.stop();
  await target?.drop();
});

describe.each([
  ['stdio (hoop mcp)', () => stdio],
  ['Streamable HTTP (/mcp)', () => http],
])('over %s', (_name, client) => {
  it('lists the tools with their schemas and descriptions', async () => {
    const { tools } = await client().listTools();
    expect(tools.map((tool) => tool.name)).toEqual([...TOOL_NAMES]);
    const exec = tools.find((tool) => tool.name === 'exec')!;
    expect(exec.inputSchema.required).toEqual(['connection', 'input']);
    expect(Object.keys(exec.inputSchema.properties ?? {})).toEqual(['connection', 'input', 'reason']);
    expect(exec.description).toMatch(/wait_review/);
    const wait = tools.find((tool) => tool.name === 'wait_review')!;
    expect(wait.inputSchema.properties?.timeoutSec).toMatchObject({ type: 'integer', maximum: 300 });
  });

  it('list_connections says what the agent may do', async () => {
    const r = await call(client(), 'list_connections', {});
    expect(r.isError).toBeFalsy();
    expect(r.structuredContent.you).toEqual({ email: 'ci-bot@agents.invalid', kind: 'agent', groups: ['developers'] });
    expect(r.structuredContent.connections).toEqual([
      expect.objectContaining({ name: 'prod-db', type: 'postgres', reviewMode: 'writes', reviewerGroups: ['dba-team'], youMay: { exec: true, runsWithoutReview: 'reads', approve: false } }),
    ]);
  });

  it('exec of a read answers its result at once, masked', async () => {
    const r = await call(client(), 'exec', { connection: 'prod-db', input: 'SELECT id, email FROM accounts ORDER BY id', reason: 'checking accounts' });
    expect(r.isError).toBeFalsy();
    expect(r.structuredContent).toMatchObject({ status: 'executed', ranAtOnce: true, readOnly: true, commandTags: ['SELECT 2'] });
    // No request is stored for it: no id to look up.
    expect(r.structuredContent).not.toHaveProperty('reviewId');
    expect(r.structuredContent.output).toContain(' 1 |');
    expect(r.structuredContent.output).not.toContain('carol@example.com');
  });

  it('exec of a write is pending; a person approves through the API; wait_review answers the result', async () => {
    const pending = await call(client(), 'exec', { connection: 'prod-db', input: WRITE, reason: 'OPS-42: fix the note' });
    expect(pending.isError).toBeFalsy();
    expect(pending.structuredContent).toMatchObject({ status: 'pending', waitingOn: ['dba-team'], expiresAt: expect.any(String), reviewId: expect.any(String) });
    const id = pending.structuredContent.reviewId as string;
    // The agent and its owner, on the request people see.
    const seen = await t.api('GET', `/api/reviews/${id}`, { key: dana.apiKey });
    expect(seen.body).toMatchObject({ requesterKind: 'agent', requesterOwner: 'alice@example.com', reason: 'OPS-42: fix the note', status: 'PENDING' });
    const created = await t.gateway.db.auditEvent.findFirstOrThrow({ where: { reviewId: id, action: 'review.created' } });
    expect(created.source).toBe('mcp');
    expect(created.detail).toMatchObject({ agent: { name: 'ci-bot', owner: 'alice@example.com' } });

    const waited = call(client(), 'wait_review', { reviewId: id, timeoutSec: 30 });
    expect((await t.api('PUT', `/api/reviews/${id}/approve`, { key: dana.apiKey })).status).toBe(200);
    const done = await waited;
    expect(done.isError).toBeFalsy();
    expect(done.structuredContent).toMatchObject({ reviewId: id, status: 'executed', rowsAffected: 1, commandTags: ['UPDATE 1'], requesterKind: 'agent', groups: [{ group: 'dba-team', status: 'approved', reviewer: 'dana@example.com' }] });
    const got = await call(client(), 'get_review', { reviewId: id });
    expect(got.structuredContent).toMatchObject({ status: 'executed', input: WRITE });
  });

  it('refusals are tool errors in the API\'s words', async () => {
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ['exec', { connection: 'nope', input: 'SELECT 1', reason: 'r' }, /There is no connection named "nope"/],
      ['exec', { connection: 'prod-db', input: '   ', reason: 'r' }, /The command is empty/],
      ['exec', { connection: 'prod-db', input: WRITE }, /Agents must give a reason/],
      ['exec', { connection: 'prod-db', input: 'DROP TABLE accounts', reason: 'r' }, /Blocked by the guardrail "no-drop-table"/],
      ['get_review', { reviewId: 'not-a-review' }, /No request has the id not-a-review/],
      ['wait_review', { reviewId: '00000000-0000-4000-8000-000000000000', timeoutSec: 1 }, /No request has the id 00000000/],
      ['wait_review', { reviewId: 'x', timeoutSec: 301 }, /Wait at most 300 seconds per call \(call wait_review again to wait longer\): too long at timeoutSec/],
      ['classify_sql', { connection: 'nope', input: 'SELECT 1' }, /There is no connection named "nope"/],
    ];
    for (const [tool, args, words] of cases) {
      const r = await call(client(), tool, args);
      expect(r.isError, `${tool} ${JSON.stringify(args)}`).toBe(true);
      expect(text(r), `${tool} ${JSON.stringify(args)}`).toMatch(words);
    }
    // The server still serves after them.
    expect((await call(client(), 'list_connections', {})).isError).toBeFalsy();
  });

  it('classify_sql says how a command would be treated, creating nothing', async () => {
    const before = await t.gateway.db.review.count();
    const write = await call(client(), 'classify_sql', { connection: 'prod-db', input: WRITE });
    expect(write.structuredContent).toMatchObject({ route: 'review', groups: ['dba-team'], blockedBy: null, classification: { kind: 'write' } });
    const read = await call(client(), 'classify_sql', { connection: 'prod-db', input: 'SELECT 1' });
    expect(read.structuredContent).toMatchObject({ route: 'read-only', groups: [] });
    const drop = await call(client(), 'classify_sql', { connection: 'prod-db', input: 'DROP TABLE accounts' });
    expect(drop.structuredContent).toMatchObject({ route: 'blocked', blockedBy: { rule: 'no-drop-table' } });
    expect(await t.gateway.db.review.count()).toBe(before);
  });
});

describe('accept_correction', () => {
  it("shows an agent the change a reviewer made, refuses its acceptance in words, and the corrected command runs once its owner accepts", async () => {
    for (const client of [stdio, http]) {
      const made = await call(client, 'exec', { connection: 'prod-db', input: "UPDATE accounts SET note = 'fix' WHERE id = 1", reason: 'OPS-3' });
      const id = made.structuredContent.reviewId;
      const changed = await t.api('POST', `/api/reviews/${id}/suggest`, { key: dana.apiKey, body: { input: "UPDATE accounts SET note = 'fix' WHERE id = 2", comment: 'account 2' } });
      expect(changed.status).toBe(201);
      const correctionId = changed.body.correction.id;
      const original = await call(client, 'get_review', { reviewId: id });
      expect(original.structuredContent).toMatchObject({ status: 'rejected', correctedBy: correctionId, next: expect.stringMatching(/its acceptance is for your owner \(alice@example\.com\), not for you/) });
      const pending = await call(client, 'get_review', { reviewId: correctionId });
      expect(pending.structuredContent).toMatchObject({ status: 'pending', correction: { of: id, suggestedBy: 'dana@example.com', accepted: false, diff: "-UPDATE accounts SET note = 'fix' WHERE id = 1\n+UPDATE accounts SET note = 'fix' WHERE id = 2" } });
      const byAgent = await call(client, 'accept_correction', { reviewId: correctionId });
      expect([byAgent.isError, text(byAgent)]).toEqual([true, expect.stringContaining("The agent's owner accepts it")]);
      expect((await t.api('PUT', `/api/reviews/${correctionId}/accept`, { key: alice.apiKey, body: {} })).status).toBe(200);
      const done = await call(client, 'wait_review', { reviewId: correctionId, timeoutSec: 30 });
      expect(done.structuredContent).toMatchObject({ status: 'executed', rowsAffected: 1 });
    }
  });
});

describe('request_access (Just-in-Time access)', () => {
  it('asks for a window over stdio and HTTP; a person approves; wait_review answers granted; commands then run under it', async () => {
    expect((await t.api('POST', '/api/connections', { body: { name: 'ops-db', url: target.url, reviewers: ['dba-team'], accessMode: 'jit', jitAgents: true } })).status).toBe(201);
    // Not on a connection that reviews each command: a tool error in the API's words.
    const refused = await call(stdio, 'request_access', { connection: 'prod-db', duration: '30m', reason: 'debugging' });
    expect(refused.isError).toBe(true);
    expect(text(refused)).toMatch(/prod-db reviews each command and grants no access windows/);
    const tooLong = await call(http, 'request_access', { connection: 'ops-db', duration: '3h', reason: 'debugging' });
    expect([tooLong.isError, text(tooLong)]).toEqual([true, expect.stringMatching(/ops-db grants access for at most 1 hour/)]);

    for (const [client, name, version] of [[stdio, 'test-agent', '1.2.3'], [http, 'http-agent', '9.9']] as const) {
      const asked = await call(client, 'request_access', { connection: 'ops-db', duration: '15m', reason: 'INC-7: nightly repair' });
      expect(asked.isError, text(asked)).toBeFalsy();
      expect(asked.structuredContent).toMatchObject({ status: 'pending', kind: 'access', waitingOn: ['dba-team'], access: { durationSec: 900, open: false }, requesterKind: 'agent', requesterOwner: 'alice@example.com' });
      const id = asked.structuredContent.reviewId;
      // Audited as the agent's, through MCP, naming the client it came through.
      const created = await t.gateway.db.auditEvent.findFirstOrThrow({ where: { reviewId: id, action: 'review.created' } });
      expect(created).toMatchObject({ actor: 'ci-bot@agents.invalid', source: 'mcp', detail: { kind: 'access', client: { name, version } } });
      const waiting = call(client, 'wait_review', { reviewId: id, timeoutSec: 30 });
      expect((await t.api('PUT', `/api/reviews/${id}/approve`, { key: dana.apiKey, body: {} })).body.status).toBe('GRANTED');
      const granted = await waiting;
      expect(granted.structuredContent).toMatchObject({ status: 'granted', access: { open: true }, next: expect.stringMatching(/^Granted until/) });
      const ran = await call(client, 'exec', { connection: 'ops-db', input: WRITE, reason: 'INC-7' });
      expect(ran.structuredContent).toMatchObject({ status: 'executed', grantId: id });
      // The agent cannot close its window; a reviewer does.
      expect((await t.api('PUT', `/api/reviews/${id}/revoke`, { key: botKey, body: {} })).status).toBe(403);
      expect((await t.api('PUT', `/api/reviews/${id}/revoke`, { key: dana.apiKey, body: {} })).status).toBe(200);
      const held = await call(client, 'exec', { connection: 'ops-db', input: WRITE, reason: 'INC-7' });
      expect([held.isError, text(held)]).toEqual([true, expect.stringMatching(/ops-db takes access requests, not per-command reviews/)]);
    }
  });
});

describe('hoop mcp', () => {
  it('names its MCP client on every API call (Hoop-Mcp-Client)', async () => {
    expect(relayed.length).toBeGreaterThan(5);
    expect(new Set(relayed)).toEqual(new Set(['test-agent/1.2.3']));
  });

  it('writes nothing but JSON-RPC on stdout, and speaks on stderr', () => {
    expect(stdioErrors).toEqual([]);
    expect(stdioStderr).toContain('hoop mcp: serving MCP on stdio');
    expect(stdioStderr).not.toContain('a tool failed');
  });
});

describe('/mcp', () => {
  it('opens a session on initialize and serves it; another user\'s key with that session id gets 404', async () => {
    const session = httpTransport.sessionId!;
    expect(session).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const headers = { 'mcp-session-id': session, 'mcp-protocol-version': PROTOCOL };
    expect((await rawMcp(listTools, { ...headers, authorization: `Bearer ${botKey}` })).status).toBe(200);
    const stolen = await rawMcp(listTools, { ...headers, authorization: `Bearer ${alice.apiKey}` });
    expect(stolen.status).toBe(404);
    expect((await stolen.json()).error.message).toMatch(/Session not found/);
  });

  it('bounds the sessions a person holds: a new one beyond ends the least recently used', async () => {
    const open = async () => (await rawMcp(initialize('bounded'), { authorization: `Bearer ${alice.apiKey}` })).headers.get('mcp-session-id')!;
    const [first, second, third] = [await open(), await open(), await open()];
    const use = (id: string) => rawMcp(listTools, { 'mcp-session-id': id, 'mcp-protocol-version': PROTOCOL, authorization: `Bearer ${alice.apiKey}` });
    expect((await use(first)).status).toBe(404);
    expect((await use(second)).status).toBe(200);
    expect((await use(third)).status).toBe(200);
    // DELETE ends one.
    const ended = await fetch(`${t.baseUrl}/mcp`, { method: 'DELETE', headers: { 'mcp-session-id': third, authorization: `Bearer ${alice.apiKey}` } });
    expect(ended.status).toBe(200);
    expect((await use(third)).status).toBe(404);
  });

  it('takes JSON only, and no standing stream (GET is 405)', async () => {
    const form = await fetch(`${t.baseUrl}/mcp`, { method: 'POST', headers: { authorization: `Bearer ${botKey}`, 'content-type': 'text/plain' }, body: 'hello' });
    expect(form.status).toBe(415);
    const huge = await rawMcp({ ...listTools, params: { pad: 'x'.repeat(2 * 1024 * 1024) } }, { authorization: `Bearer ${botKey}` });
    expect(huge.status).toBe(413);
    const get = await fetch(`${t.baseUrl}/mcp`, { headers: { authorization: `Bearer ${botKey}`, accept: 'text/event-stream' } });
    expect(get.status).toBe(405);
  });

  it('refuses a missing or wrong bearer key with 401, and counts it toward blocking like /api', async () => {
    const none = await rawMcp(initialize('anon'), {});
    expect(none.status).toBe(401);
    // The web app's session cookie is no way in either.
    expect((await rawMcp(initialize('cookie'), { cookie: 'hoop_session=anything' })).status).toBe(401);
    const wrong = { authorization: 'Bearer hoop_wrongkey_0000000000000000' };
    for (let i = 0; i < 3; i++) expect((await rawMcp(initialize('guess'), wrong)).status).toBe(401);
    const blocked = await rawMcp(initialize('guess'), wrong);
    expect(blocked.status).toBe(429);
    expect(blocked.headers.get('retry-after')).toBeTruthy();
    // The same counter as /api's.
    expect((await t.api('GET', '/api/me', { key: 'hoop_wrongkey_0000000000000000' })).status).toBe(429);
    // Others are not blocked.
    expect((await rawMcp(initialize('fine'), { authorization: `Bearer ${dana.apiKey}` })).status).toBe(200);
  });
});

describe('POST /api/connections/:name/classify', () => {
  it('answers by the caller: an admin\'s own write would run at once, a person\'s would wait', async () => {
    const admin = await t.api('POST', '/api/connections/prod-db/classify', { body: { input: WRITE } });
    expect(admin.status).toBe(200);
    expect(admin.body).toMatchObject({ route: 'direct', groups: [], note: expect.stringContaining("an admin's own request") });
    const person = await t.api('POST', '/api/connections/prod-db/classify', { key: alice.apiKey, body: { input: WRITE } });
    expect(person.body).toMatchObject({ route: 'review', groups: ['dba-team'] });
  });

  it('sees access windows as submit does: an open window skips the review; a jit-only connection without one refuses', async () => {
    expect((await t.api('POST', '/api/connections', { body: { name: 'jit-db', url: target.url, reviewers: ['dba-team'], reviewMode: 'writes', accessMode: 'jit' } })).status).toBe(201);
    const classify = () => t.api('POST', '/api/connections/jit-db/classify', { key: alice.apiKey, body: { input: WRITE } });
    const before = await classify();
    expect(before.body).toMatchObject({ route: 'blocked', blockedBy: { rule: 'access-window-required', message: expect.stringContaining('no open access window') } });
    const asked = await t.api('POST', '/api/connections/jit-db/access', { key: alice.apiKey, body: { duration: '30m', reason: 'INC-7' } });
    expect(asked.status).toBe(201);
    expect((await t.api('PUT', `/api/reviews/${asked.body.id}/approve`, { key: dana.apiKey })).status).toBe(200);
    const during = await classify();
    expect(during.body).toMatchObject({ route: 'direct', blockedBy: null, note: expect.stringContaining(`your access window ${asked.body.id}`) });
  });

  it('refuses bad input with a 400 that says what it takes, and audits nothing', async () => {
    const events = await t.gateway.db.auditEvent.count();
    const missing = await t.api('POST', '/api/connections/prod-db/classify', { key: alice.apiKey, body: {} });
    expect(missing.status).toBe(400);
    expect(missing.body.error.message).toMatch(/Give the SQL to classify in "input"/);
    const extra = await t.api('POST', '/api/connections/prod-db/classify', { key: alice.apiKey, body: { input: 'SELECT 1', reason: 'x' } });
    expect(extra.status).toBe(400);
    expect(extra.body.error.message).toMatch(/does not take "reason"\. It accepts: input/);
    const blocked = await t.api('POST', '/api/connections/prod-db/classify', { key: alice.apiKey, body: { input: 'TRUNCATE accounts' } });
    expect(blocked.body).toMatchObject({ route: 'blocked', blockedBy: { rule: 'no-truncate' } });
    expect(await t.gateway.db.auditEvent.count()).toBe(events);
  });
});

// Last: it stops the gateway.
describe('a stopping gateway', () => {
  it('answers an open wait_review at once with the review as it stands, and does not hang on MCP', async () => {
    const pending = await call(http, 'exec', { connection: 'prod-db', input: "UPDATE accounts SET note = 'later' WHERE id = 2", reason: 'OPS-43' });
    const id = pending.structuredContent.reviewId as string;
    const bot = await t.gateway.db.user.findFirstOrThrow({ where: { email: 'ci-bot@agents.invalid' } });
    const waiting = call(http, 'wait_review', { reviewId: id, timeoutSec: 300 });
    // The wait holds its long-poll slot once it is under way.
    const redis = new Redis(REDIS_URL);
    try {
      await eventually(async () => (await redis.zcard(`${t.prefix}:limit:long-polls:${bot.id}`)) > 0, 10_000, 'the wait to start');
    } finally {
      redis.disconnect();
    }
    const started = Date.now();
    const stopped = t.gateway.stop();
    const answer = await waiting;
    expect(answer.isError).toBeFalsy();
    expect(answer.structuredContent).toMatchObject({ reviewId: id, status: 'pending', stillWaiting: true });
    await stopped;
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
