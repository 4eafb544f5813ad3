// Agents as identities (issue 13, first slice), through the real API and the built CLI: an admin
// creates an agent owned by a person; its key submits requests (a reason required), each marked as
// an agent's with its owner; and whatever its groups, an agent never approves or rejects anything.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_CANNOT_ACCEPT, AGENT_CANNOT_SUGGEST, AGENT_CANNOT_VOTE } from '../../src/core/review-state.js';
import { createTargetDatabase } from '../helpers/databases.js';
import { ADMIN_KEY, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { runHoop } from '../helpers/hoop-cli.js';

let t: TestGateway;
let target: Awaited<ReturnType<typeof createTargetDatabase>>;
let home: string;
let alice: { id: string; apiKey: string }; // owns agents; a developer
let bob: { id: string; apiKey: string }; // a dba reviewer
let botKey: string; // ci-bot: an agent in developers AND dba-team

const hoop = (args: string[], key = ADMIN_KEY) => runHoop(args, { apiUrl: t.baseUrl, key, home });
const printedKey = (out: string) => /API key \(shown once, store it now\): (\S+)/.exec(out)?.[1];
const WRITE = "UPDATE accounts SET note = 'x' WHERE id = 1";
const agentCount = () => t.gateway.db.user.count({ where: { kind: 'agent' } });

async function submit(key: string, reason?: string) {
  return t.api('POST', '/api/connections/prod-db/exec', { key, body: { input: WRITE, ...(reason === undefined ? {} : { reason }) } });
}

beforeAll(async () => {
  home = mkdtempSync(path.join(tmpdir(), 'hoop-agents-'));
  target = await createTargetDatabase();
  t = await startTestGateway({ slack: false });
  alice = await t.createUser('alice@example.com', ['developers']);
  bob = await t.createUser('bob@example.com', ['dba-team']);
  await t.api('POST', '/api/connections', { body: { name: 'prod-db', url: target.url, reviewers: ['dba-team'], reviewMode: 'all', allowedGroups: ['developers', 'dba-team'] } });
  const res = await t.api('POST', '/api/agents', { body: { name: 'ci-bot', owner: 'Alice@Example.com', groups: ['developers', 'dba-team'] } });
  expect(res.status).toBe(201);
  botKey = res.body.apiKey;
});

afterAll(async () => {
  await t?.stop();
  await target?.drop();
});

describe('creating agents', () => {
  it('POST /api/agents answers the agent and its key once; the key works; agents are listed apart from people', async () => {
    const res = await t.api('POST', '/api/agents', { body: { name: 'Report_Bot', owner: 'alice@example.com', groups: ['developers'] } });
    expect(res.status).toBe(201);
    expect(res.body.apiKey).toMatch(/^hoop_/);
    expect(res.body.agent).toEqual({ name: 'report_bot', owner: 'alice@example.com', groups: ['developers'], createdAt: expect.any(String) });
    const me = await t.api('GET', '/api/me', { key: res.body.apiKey });
    expect(me.status).toBe(200);
    expect(me.body.user).toMatchObject({ email: 'report_bot@agents.invalid', admin: false });

    const agents = await t.api('GET', '/api/agents');
    expect(agents.status).toBe(200);
    expect(agents.body.agents.map((a: { name: string }) => a.name)).toEqual(expect.arrayContaining(['ci-bot', 'report_bot']));
    expect(agents.body.agents.find((a: { name: string }) => a.name === 'report_bot')).toMatchObject({ owner: 'alice@example.com', activeKeys: 1, active: true });
    const users = await t.api('GET', '/api/users');
    expect(users.status).toBe(200);
    expect(users.body.users.map((u: { email: string }) => u.email)).not.toContain('report_bot@agents.invalid');
    expect(users.body.users.map((u: { email: string }) => u.email)).toContain('alice@example.com');

    const audit = await t.gateway.db.auditEvent.findFirstOrThrow({ where: { action: 'agent.created', detail: { path: ['name'], equals: 'report_bot' } } });
    expect(audit).toMatchObject({ actor: 'root@example.com', detail: { before: null, after: { name: 'report_bot', owner: 'alice@example.com', groups: ['developers'], admin: false } } });
    expect(JSON.stringify(audit.detail)).not.toContain(res.body.apiKey);
  });

  it('refuses bad input with a clear 400 or 409, creating nothing', async () => {
    const cases: [unknown, number, RegExp][] = [
      [{ name: 'bad name!', owner: 'alice@example.com' }, 400, /letters, digits/],
      [{ name: '', owner: 'alice@example.com' }, 400, /"name"/],
      [{ name: 'x-bot', owner: 'nobody@example.com' }, 400, /No user is "nobody@example.com"/],
      [{ name: 'x-bot' }, 400, /"owner"/],
      [{ name: 'x-bot', owner: 'ci-bot@agents.invalid' }, 400, /is an agent; an agent's owner must be a person/],
      [{ name: 'x-bot', owner: 'alice@example.com', groups: ['bad group'] }, 400, /not a valid group name/],
      [{ name: 'x-bot', owner: 'alice@example.com', admin: true }, 400, /does not take "admin"/],
      [{ name: 'CI-Bot', owner: 'alice@example.com' }, 409, /An agent named "ci-bot" already exists/],
    ];
    const before = await agentCount();
    for (const [body, status, message] of cases) {
      const res = await t.api('POST', '/api/agents', { body });
      expect(res.status, JSON.stringify(body)).toBe(status);
      expect(res.body.error.message, JSON.stringify(body)).toMatch(message);
    }
    expect(await agentCount()).toBe(before);
    // The same name twice at once: one is created, the other gets the 409, not a 500.
    const racing = await Promise.all([1, 2, 3].map(() => t.api('POST', '/api/agents', { body: { name: 'twin', owner: 'alice@example.com' } })));
    expect(racing.map((r) => r.status).sort()).toEqual([201, 409, 409]);
    // A person cannot take the agents' domain either.
    const person = await t.api('POST', '/api/users', { body: { email: 'sneaky@agents.invalid' } });
    expect(person.status).toBe(400);
    expect(person.body.error.message).toMatch(/name agents/);
  });

  it('refuses a non-admin (403), an agent included, and an agent cannot be made admin', async () => {
    for (const key of [alice.apiKey, botKey]) {
      const res = await t.api('POST', '/api/agents', { key, body: { name: 'mine', owner: 'alice@example.com' } });
      expect(res.status).toBe(403);
      expect((await t.api('GET', '/api/agents', { key })).status).toBe(403);
    }
    expect(await t.gateway.db.user.count({ where: { email: 'mine@agents.invalid' } })).toBe(0);
    const promote = await t.api('PATCH', '/api/users/ci-bot@agents.invalid', { body: { admin: true } });
    expect(promote.status).toBe(400);
    expect(promote.body.error.message).toMatch(/agents are never admins/);
  });

  it('hoop admin create agent prints the key once; hoop admin get agents lists it (table and json)', async () => {
    const made = await hoop(['admin', 'create', 'agent', 'cli-bot', '--owner', 'bob@example.com', '--groups', 'developers,dba-team']);
    expect(made.stderr).toBe('');
    expect(made.code).toBe(0);
    expect(made.stdout).toContain('Agent cli-bot created, owned by bob@example.com');
    const key = printedKey(made.stdout)!;
    expect((await t.api('GET', '/api/me', { key })).body.user.email).toBe('cli-bot@agents.invalid');

    const listed = await hoop(['admin', 'get', 'agents']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/cli-bot\s+bob@example\.com\s+developers,dba-team/);
    const json = await hoop(['admin', 'get', 'agents', '-o', 'json']);
    expect(JSON.parse(json.stdout).find((a: { name: string }) => a.name === 'cli-bot')).toMatchObject({ owner: 'bob@example.com', groups: ['developers', 'dba-team'] });

    const dup = await hoop(['admin', 'create', 'agent', 'cli-bot', '--owner', 'bob@example.com']);
    expect(dup.code).not.toBe(0);
    expect(dup.stderr).toContain('already exists');
  });
});

describe("an agent's requests", () => {
  it('need a reason (400); with one, the request is pending and says it is an agent\'s, and whose', async () => {
    const none = await submit(botKey);
    expect(none.status).toBe(400);
    expect(none.body.error.message).toMatch(/Agents must give a reason/);
    expect((await submit(botKey, '   ')).status).toBe(400);
    // A person's request needs none (unchanged).
    expect((await submit(alice.apiKey)).status).toBe(201);

    const res = await submit(botKey, 'nightly cleanup, ticket OPS-7');
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: 'PENDING', requester: 'ci-bot@agents.invalid', requesterKind: 'agent', requesterOwner: 'alice@example.com' });
    const view = await t.api('GET', `/api/reviews/${res.body.id}`, { key: bob.apiKey });
    expect(view.body).toMatchObject({ requesterKind: 'agent', requesterOwner: 'alice@example.com', reason: 'nightly cleanup, ticket OPS-7' });
    const created = await t.gateway.db.auditEvent.findFirstOrThrow({ where: { action: 'review.created', reviewId: res.body.id } });
    expect(created.detail).toMatchObject({ agent: { name: 'ci-bot', owner: 'alice@example.com' } });
    // A reviewer's terminal says so too, with where it came from; control characters spelled out.
    const shown = await hoop(['get', 'review', res.body.id], bob.apiKey);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain('Requester:   Agent ci-bot (owner alice@example.com) from 127.0.0.1\n');
    expect(shown.stdout).toMatch(/\nUser agent: {2}\S/);

    const persons = await submit(alice.apiKey, 'OPS-8');
    expect(persons.body).toMatchObject({ requesterKind: 'person', requesterOwner: null });
    const personCreated = await t.gateway.db.auditEvent.findFirstOrThrow({ where: { action: 'review.created', reviewId: persons.body.id } });
    expect(personCreated.detail).not.toHaveProperty('agent');
  });
});

describe('an agent never decides', () => {
  it('is refused approve and reject (403, audited review.vote_denied) on a request it is a reviewer of; its view says it cannot vote', async () => {
    const req = await submit(alice.apiKey, 'OPS-9');
    expect(req.status).toBe(201);
    const id = req.body.id;

    const view = await t.api('GET', `/api/reviews/${id}`, { key: botKey });
    expect(view.status).toBe(200);
    expect(view.body.viewer).toEqual({ canDecide: false, groups: [], approveGroups: [], why: AGENT_CANNOT_VOTE, canRevoke: false, canSuggest: false, canAccept: false });

    for (const [action, body] of [['approve', {}], ['approve', { group: 'dba-team' }], ['reject', { reason: 'no' }]] as const) {
      const res = await t.api('PUT', `/api/reviews/${id}/${action}`, { key: botKey, body });
      expect(res.status, `${action} ${JSON.stringify(body)}`).toBe(403);
      expect(res.body.error.message).toBe(AGENT_CANNOT_VOTE);
    }
    const cli = await hoop(['review', 'approve', id], botKey);
    expect(cli.code).not.toBe(0);
    expect(cli.stderr).toContain(AGENT_CANNOT_VOTE);

    const denied = await t.gateway.db.auditEvent.findMany({ where: { action: 'review.vote_denied', reviewId: id }, orderBy: { id: 'asc' } });
    expect(denied.map((e) => [e.actor, (e.detail as { action: string }).action, (e.detail as { message: string }).message])).toEqual([
      ['ci-bot@agents.invalid', 'approve', AGENT_CANNOT_VOTE],
      ['ci-bot@agents.invalid', 'approve', AGENT_CANNOT_VOTE],
      ['ci-bot@agents.invalid', 'reject', AGENT_CANNOT_VOTE],
      ['ci-bot@agents.invalid', 'approve', AGENT_CANNOT_VOTE],
    ]);
    const after = await t.api('GET', `/api/reviews/${id}`, { key: bob.apiKey });
    expect(after.body.status).toBe('PENDING');
    expect(after.body.groups).toEqual([expect.objectContaining({ group: 'dba-team', status: 'PENDING', reviewer: null })]);
    // A person of the group still decides it.
    expect((await t.api('PUT', `/api/reviews/${id}/approve`, { key: bob.apiKey })).status).toBe(200);
  });
});

describe('corrections of and by agents', () => {
  it("refuses an agent that suggests a change, and one that accepts a correction of its own request: its owner accepts", async () => {
    const person = await submit(alice.apiKey, 'OPS-10');
    const byAgent = await t.api('POST', `/api/reviews/${person.body.id}/suggest`, { key: botKey, body: { input: "UPDATE accounts SET note = 'y' WHERE id = 1", comment: 'better' } });
    expect(byAgent.status).toBe(403);
    expect(byAgent.body.error.message).toBe(AGENT_CANNOT_SUGGEST);

    const mine = await submit(botKey, 'ticket OPS-11');
    const changed = await t.api('POST', `/api/reviews/${mine.body.id}/suggest`, { key: bob.apiKey, body: { input: "UPDATE accounts SET note = 'x' WHERE id = 2", comment: 'the other account' } });
    expect(changed.status).toBe(201);
    const correction = changed.body.correction;
    expect(correction).toMatchObject({ requester: 'ci-bot@agents.invalid', requesterKind: 'agent', status: 'PENDING', correction: { suggestedBy: 'bob@example.com', accepted: false } });
    const byBot = await t.api('PUT', `/api/reviews/${correction.id}/accept`, { key: botKey, body: {} });
    expect(byBot.status).toBe(403);
    expect(byBot.body.error.message).toBe(AGENT_CANNOT_ACCEPT);
    expect((await t.api('GET', `/api/reviews/${correction.id}`)).body.status).toBe('PENDING');
    // Its owner answers for it: reads the change (the diff), then accepts it.
    const read = await t.api('GET', `/api/reviews/${correction.id}`, { key: alice.apiKey });
    expect(read.status).toBe(200);
    expect(read.body.correction.diff).toContain("+UPDATE accounts SET note = 'x' WHERE id = 2");
    expect(read.body.viewer.canAccept).toBe(true);
    const accepted = await t.api('PUT', `/api/reviews/${correction.id}/accept`, { key: alice.apiKey, body: {} });
    expect(accepted.status).toBe(200);
    expect(['APPROVED', 'RUNNING', 'EXECUTED']).toContain(accepted.body.status);
  });
});
