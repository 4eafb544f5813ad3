// Where a request comes from (issue 13), through one real gateway with the fake Slack, the fake
// Teams flow and a webhook receiver: the client's address (X-Forwarded-For behind TRUST_PROXY), its
// User-Agent and the MCP client it names are stored on the request, shown in the API's view, put in
// the audit trail, and shown to reviewers of an agent's request in Slack and Teams — as inert text,
// whatever an attacker put in them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeTeams, type FakeTeams } from '../fakes/fake-teams.js';
import { startFakeWebhookReceiver, type FakeWebhookReceiver } from '../fakes/fake-webhook-receiver.js';
import { createTargetDatabase } from '../helpers/databases.js';
import { eventually, startTestGateway, type TestGateway } from '../helpers/gateway.js';

let t: TestGateway;
let teams: FakeTeams;
let receiver: FakeWebhookReceiver;
let target: Awaited<ReturnType<typeof createTargetDatabase>>;
let alice: { id: string; apiKey: string };
let botKey: string;

const WRITE = "UPDATE users SET status = 'x' WHERE id = 1";

async function submit(key: string, headers: Record<string, string>, reason = 'nightly cleanup, OPS-9') {
  const res = await t.api('POST', '/api/connections/prod-db/exec', { key, headers, body: { input: WRITE, reason } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

/** The request message's blocks as Slack got them. */
async function slackBlocksOf(id: string): Promise<any[]> {
  const post = await eventually(async () => t.slack.calls.find((c) => c.method === 'chat.postMessage' && !c.args.thread_ts && JSON.stringify(c.args).includes(id)), 10_000, 'the Slack request message');
  return post.args.blocks;
}

/** The request card's facts as the Teams flow got them. */
async function teamsFactsOf(id: string): Promise<Record<string, string>> {
  const card = await eventually(async () => teams.accepted.find((a) => JSON.stringify(a.card).includes(id))?.card, 10_000, 'the Teams request card');
  const factSet = card.body.find((e: any) => e.type === 'FactSet');
  return Object.fromEntries(factSet.facts.map((f: any) => [f.title, f.value]));
}

/** Every mrkdwn text of a message, joined. */
const mrkdwnOf = (blocks: any[]): string[] => blocks.flatMap((b) => [b.text?.text, ...(b.fields ?? []).map((f: any) => f.text), ...(b.elements ?? []).map((e: any) => e.text)]).filter((x) => typeof x === 'string');

/**
 * What no value from outside may leave in a mrkdwn text: a raw '<' (a mention, a broadcast, a link),
 * or a code span it closed early (an odd number of backticks outside our own spans' pairs).
 */
function expectInert(text: string) {
  expect(text).not.toMatch(/<[!@#]/);
  expect(text).not.toMatch(/<https?:/);
  expect(text).not.toContain('<');
  expect((text.match(/`/g) ?? []).length % 2).toBe(0);
}

beforeAll(async () => {
  teams = await startFakeTeams();
  receiver = await startFakeWebhookReceiver();
  target = await createTargetDatabase();
  t = await startTestGateway({ env: { TRUST_PROXY: 'true', TEAMS_WEBHOOK_URL: teams.urlOf('default'), PUBLIC_URL: 'https://hoop.example.com', WEBHOOK_ALLOW_PRIVATE: 'true' } });
  alice = await t.createUser('alice@example.com', ['developers']);
  await t.createUser('dana@example.com', ['dba-team']);
  const conn = await t.api('POST', '/api/connections', { body: { name: 'prod-db', url: target.url, reviewers: ['dba-team'], reviewMode: 'all' } });
  expect(conn.status, JSON.stringify(conn.body)).toBe(201);
  const agent = await t.api('POST', '/api/agents', { body: { name: 'ci-bot', owner: 'alice@example.com', groups: ['developers'] } });
  expect(agent.status).toBe(201);
  botKey = agent.body.apiKey;
  const hook = await t.api('POST', '/api/webhooks', { body: { url: `${receiver.url}/hoop`, events: ['review.created'] } });
  expect(hook.status, JSON.stringify(hook.body)).toBe(201);
  receiver.setSecret(hook.body.webhook.secret);
});

afterAll(async () => {
  await t?.stop();
  await teams?.close();
  await receiver?.stop();
  await target?.drop();
});

describe("an agent's request through an MCP client", () => {
  it('is stored with its origin, shown in the API view, the webhook payload and the audit event, and named in Slack and Teams', async () => {
    const view = await submit(botKey, { 'user-agent': 'hoop-mcp/0.9 (linux)', 'hoop-mcp-client': 'claude-desktop/1.2.0', 'x-forwarded-for': '203.0.113.7' });
    const origin = { ip: '203.0.113.7', userAgent: 'hoop-mcp/0.9 (linux)', client: { name: 'claude-desktop', version: '1.2.0' } };
    expect(view).toMatchObject({ requesterKind: 'agent', requesterOwner: 'alice@example.com', origin });
    expect((await t.api('GET', `/api/reviews/${view.id}`)).body.origin).toEqual(origin);
    const listed = await t.api('GET', '/api/reviews?limit=5');
    expect(listed.body.reviews.find((r: any) => r.id === view.id).origin).toEqual(origin);
    expect((await t.gateway.db.review.findUniqueOrThrow({ where: { id: view.id } })).origin).toEqual(origin);

    const created = await t.gateway.db.auditEvent.findFirstOrThrow({ where: { reviewId: view.id, action: 'review.created' } });
    expect(created).toMatchObject({ source: 'mcp', ip: '203.0.113.7', userAgent: 'hoop-mcp/0.9 (linux)' });
    expect(created.detail).toMatchObject({ agent: { name: 'ci-bot', owner: 'alice@example.com' }, client: { name: 'claude-desktop', version: '1.2.0' } });

    const blocks = await slackBlocksOf(view.id);
    const texts = mrkdwnOf(blocks);
    expect(texts[0]).toBe(':robot_face: *Access request from an agent:* Agent `ci-bot` (owner `alice@example.com`) via `claude-desktop` `1.2.0` from `203.0.113.7`');
    expect(texts[1]).toMatch(/^User agent: `hoop-mcp\/0\.9 \(linux\)`/);

    const facts = await teamsFactsOf(view.id);
    expect(facts.Requester).toBe('🤖 Agent ci-bot (owner alice@example.com) via claude-desktop 1.2.0 from 203.0.113.7');
    expect(facts['User agent']).toBe('hoop-mcp/0.9 (linux)');

    const [hooked] = await eventually(async () => {
      const mine = receiver.received.filter((r) => r.body.includes(view.id));
      return mine.length ? mine : null;
    }, 10_000, 'the review.created webhook');
    expect(JSON.parse(hooked.body).data).toMatchObject({ id: view.id, requesterKind: 'agent', origin });
  });

  it('shows hostile origins as inert text in Slack and Teams, cut with a notice, never a mention, link or formatting', async () => {
    const longUa = `<!channel> *bold* _it_ ~s~ \`code\` <https://evil.example|click here> @here :skull: &lt; www.evil.example [x](http://evil.example) {{DATE(2020-01-01T00:00:00Z)}} ${'A'.repeat(600)}`;
    const variants: Record<string, string>[] = [
      { 'user-agent': longUa, 'hoop-mcp-client': '<!here>`x`*y*_z_/1.0<@U123>', 'x-forwarded-for': '<!everyone>' },
      { 'user-agent': '```\t*Approve*```\u00e2\u0080\u00ae<#C1|general>', 'hoop-mcp-client': '[click](https://evil.example)/**9**', 'x-forwarded-for': '`><@U1|boss>' },
      { 'user-agent': '&amp;&<>'.repeat(80), 'hoop-mcp-client': '~strike~ <mailto:a@b.c|mail>/~', 'x-forwarded-for': '*203.0.113.9*' },
    ];
    for (const headers of variants) {
      const view = await submit(botKey, headers);
      // Stored as sent (an address as Fastify read it), each field within its limit.
      expect(view.origin.userAgent.length).toBeLessThanOrEqual(512);
      expect(view.origin.ip).toBe(headers['x-forwarded-for']);

      const blocks = await slackBlocksOf(view.id);
      const [line, ua] = mrkdwnOf(blocks);
      expect(line.startsWith(':robot_face: *Access request from an agent:* Agent `ci-bot` (owner `alice@example.com`) via `')).toBe(true);
      expectInert(line);
      expectInert(ua);
      // The values are all there, escaped: nothing was dropped silently.
      expect(line).toContain(headers['x-forwarded-for'].replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('`', 'ˋ'));
      // A tab, and U+202E's UTF-8 bytes as Node reads a header (latin1: a C1 control among them), show as '?'.
      expect(ua).not.toMatch(/[\t\u0080-\u009f]/);
      // A code span per value, so no *, _ or ~ formats anything: every one of them is inside a span.
      const outside = line.replace(/`[^`]*`/g, '').replace(/^:robot_face: \*Access request from an agent:\*/, '');
      expect(outside).not.toMatch(/[*_~]/);
      const facts = await teamsFactsOf(view.id);
      for (const value of [facts.Requester, facts['User agent']]) {
        // Adaptive Card markdown: no link, no bold, no date function, no hidden direction change.
        expect(value).not.toMatch(/\]\(|:\/\/|\*\*|\{\{|[\t\u0080-\u009f]|(?<!\\)[*_[\]`<>~]/);
      }
    }
    // The 600-character User-Agent: cut at 512 when stored, and shown cut with a notice.
    const first = await t.gateway.db.review.findFirstOrThrow({ where: { origin: { path: ['userAgent'], string_starts_with: '<!channel>' } } });
    const stored = (first.origin as any).userAgent as string;
    expect(stored.length).toBe(512);
    const [, ua] = mrkdwnOf(await slackBlocksOf(first.id));
    expect(ua).toMatch(/_\(cut: 300 of 512 characters shown\)_/);
    expect((await teamsFactsOf(first.id))['User agent']).toMatch(/\(cut: \d+ of 512 characters shown\)$/);
  });
});

describe("an agent's access request (Just-in-Time)", () => {
  it('records where it came from, as a command does', async () => {
    const conn = await t.api('POST', '/api/connections', { body: { name: 'jit-db', url: target.url, reviewers: ['dba-team'], accessMode: 'jit', jitAgents: true, plugins: ['webhooks'] } });
    expect(conn.status, JSON.stringify(conn.body)).toBe(201);
    const res = await t.api('POST', '/api/connections/jit-db/access', {
      key: botKey,
      headers: { 'user-agent': 'hoop-mcp/0.9', 'hoop-mcp-client': 'cursor/0.42', 'x-forwarded-for': '203.0.113.8' },
      body: { duration: '30m', reason: 'INC-9: debugging' },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect((await t.api('GET', `/api/reviews/${res.body.id}`)).body).toMatchObject({ kind: 'access', origin: { ip: '203.0.113.8', userAgent: 'hoop-mcp/0.9', client: { name: 'cursor', version: '0.42' } } });
  });
});

describe("a person's request", () => {
  it('is stored with its origin and shown in the API view; Slack names the person as before', async () => {
    const view = await submit(alice.apiKey, { 'user-agent': 'curl/8.5.0', 'x-forwarded-for': '198.51.100.4' }, 'OPS-10');
    expect(view).toMatchObject({ requesterKind: 'person', origin: { ip: '198.51.100.4', userAgent: 'curl/8.5.0', client: null } });
    const created = await t.gateway.db.auditEvent.findFirstOrThrow({ where: { reviewId: view.id, action: 'review.created' } });
    expect(created.detail).not.toHaveProperty('client');
    const [first] = mrkdwnOf(await slackBlocksOf(view.id));
    expect(first).toBe(':bell: *Access request from alice@example.com* (alice@example.com)');
    expect((await teamsFactsOf(view.id)).Requester).toBe('alice@example.com');
  });
});
