// Just-in-Time access (issue 13) through the real API, the sweep and the built CLI, on a clock the
// test moves: a window is asked for, reviewed like a command, granted; its requester's commands run
// without a per-command review while it is open (guardrails still apply), and are held again once it
// ends on time or is revoked. Agents ask only where the connection allows it, and never revoke.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/clock.js';
import { AGENT_CANNOT_REVOKE, AGENT_CANNOT_VOTE } from '../../src/core/review-state.js';
import { createTargetDatabase } from '../helpers/databases.js';
import { ADMIN_KEY, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { runHoop } from '../helpers/hoop-cli.js';

const clock = createManualClock();
let t: TestGateway;
let target: Awaited<ReturnType<typeof createTargetDatabase>>;
let home: string;
let alice: { id: string; apiKey: string }; // a developer
let bob: { id: string; apiKey: string }; // dba-team: reviews prod-db
let dave: { id: string; apiKey: string }; // a developer too, not a reviewer
let botKey: string; // an agent in developers and dba-team
const WRITE = "UPDATE accounts SET note = 'jit' WHERE id = 1";

const exec = (key: string, input = WRITE, conn = 'prod-db') => t.api('POST', `/api/connections/${conn}/exec`, { key, body: { input, reason: 'debugging OPS-7' } });
const ask = (key: string, body: Record<string, unknown>, conn = 'prod-db') => t.api('POST', `/api/connections/${conn}/access`, { key, body });
const approve = (id: string, key = bob.apiKey) => t.api('PUT', `/api/reviews/${id}/approve`, { key, body: {} });
const revoke = (id: string, key: string) => t.api('PUT', `/api/reviews/${id}/revoke`, { key, body: {} });
const audit = (reviewId: string, action: string) => t.gateway.db.auditEvent.findMany({ where: { reviewId, action }, orderBy: { id: 'asc' } });

async function waitFor<T>(read: () => Promise<T>, ok: (v: T) => boolean, what: string): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const v = await read();
    if (ok(v)) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A granted window for alice on prod-db: asked, approved by bob. */
async function grantAlice(duration = '30m'): Promise<string> {
  const asked = await ask(alice.apiKey, { duration, reason: 'on call: INC-42' });
  expect(asked.status).toBe(201);
  const approved = await approve(asked.body.id);
  expect(approved.status).toBe(200);
  expect(approved.body.status).toBe('GRANTED');
  return asked.body.id;
}

beforeAll(async () => {
  home = mkdtempSync(path.join(tmpdir(), 'hoop-jit-'));
  target = await createTargetDatabase();
  await target.query('CREATE TABLE accounts (id int PRIMARY KEY, note text); INSERT INTO accounts VALUES (1, NULL)');
  t = await startTestGateway({ slack: false, clock, sweepIntervalMs: 200 });
  alice = await t.createUser('alice@example.com', ['developers']);
  bob = await t.createUser('bob@example.com', ['dba-team']);
  dave = await t.createUser('dave@example.com', ['developers']);
  const conn = (name: string, extra: Record<string, unknown>) => t.api('POST', '/api/connections', { body: { name, url: target.url, reviewers: ['dba-team'], ...extra } });
  expect((await conn('prod-db', { accessMode: 'both', maxAccessDuration: '2h' })).status).toBe(201);
  expect((await conn('jit-db', { accessMode: 'jit', jitAgents: true })).status).toBe(201);
  expect((await conn('cmd-db', {})).status).toBe(201);
  botKey = (await t.api('POST', '/api/agents', { body: { name: 'ops-bot', owner: 'alice@example.com', groups: ['developers', 'dba-team'] } })).body.apiKey;
});

afterAll(async () => {
  await t?.stop();
  await target?.drop();
});

describe('a connection\'s access mode', () => {
  it('is set and shown through the API, audited, and checked', async () => {
    const list = (await t.api('GET', '/api/connections')).body.connections as { name: string; accessMode: string; maxAccessSec: number; jitAgents: boolean }[];
    expect(list.find((c) => c.name === 'prod-db')).toMatchObject({ accessMode: 'both', maxAccessSec: 7200, jitAgents: false });
    expect(list.find((c) => c.name === 'cmd-db')).toMatchObject({ accessMode: 'command', maxAccessSec: 3600, jitAgents: false });
    const updated = await t.gateway.db.auditEvent.findFirstOrThrow({ where: { action: 'connection.created', detail: { path: ['name'], equals: 'jit-db' } } });
    expect(updated.detail).toMatchObject({ after: { accessMode: 'jit', maxAccessSec: 3600, jitAgents: true } });
    for (const [body, message] of [
      [{ accessMode: 'sometimes' }, /"accessMode" must be one of command, jit, both/],
      [{ maxAccessDuration: '8d' }, /"maxAccessDuration" must be a duration from 1 minute to 7 days/],
      [{ maxAccessDuration: '10s' }, /"maxAccessDuration"/],
      [{ maxAccessDuration: 'forever' }, /"maxAccessDuration"/],
      [{ jitAgents: 'yes' }, /"jitAgents" must be true/],
    ] as const) {
      const res = await t.api('POST', '/api/connections?overwrite=true', { body: { name: 'cmd-db', ...body } });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.message).toMatch(message);
    }
    expect((await t.api('GET', '/api/connections')).body.connections.find((c: { name: string }) => c.name === 'cmd-db').accessMode).toBe('command');
  });
});

describe('asking for access', () => {
  it('refuses what cannot be granted, with what to do instead, creating nothing', async () => {
    const before = await t.gateway.db.review.count({ where: { kind: 'access' } });
    const cases: [string, Record<string, unknown>, string, number, RegExp][] = [
      [alice.apiKey, { reason: 'x' }, 'prod-db', 400, /Say how long you need access in "duration"/],
      [alice.apiKey, { duration: 'abc', reason: 'x' }, 'prod-db', 400, /"duration" must be a number of seconds or a duration like "30m"/],
      [alice.apiKey, { duration: '10s', reason: 'x' }, 'prod-db', 400, /lasts at least 1 minute/],
      [alice.apiKey, { duration: '3h', reason: 'x' }, 'prod-db', 400, /prod-db grants access for at most 2 hours/],
      [alice.apiKey, { duration: -5, reason: 'x' }, 'prod-db', 400, /"duration" must be/],
      [alice.apiKey, { duration: '30m' }, 'prod-db', 400, /Say why you need access in "reason"/],
      [alice.apiKey, { duration: '30m', reason: '   ' }, 'prod-db', 400, /Say why/],
      [alice.apiKey, { duration: '30m', reason: 'x', extra: 1 }, 'prod-db', 400, /does not take "extra"/],
      [alice.apiKey, { duration: '30m', reason: 'x' }, 'cmd-db', 403, /cmd-db reviews each command and grants no access windows.*--access-mode both/],
      [alice.apiKey, { duration: '30m', reason: 'x' }, 'no-such-db', 404, /no connection named "no-such-db"/],
      [botKey, { duration: '30m', reason: 'x' }, 'prod-db', 403, /Agents may not ask for access windows on prod-db.*--jit-agents/],
    ];
    for (const [key, body, conn, status, message] of cases) {
      const res = await ask(key, body, conn);
      expect(res.status, `${conn} ${JSON.stringify(body)}`).toBe(status);
      expect(res.body.error.message).toMatch(message);
    }
    expect(await t.gateway.db.review.count({ where: { kind: 'access' } })).toBe(before);
  });

  it('is a pending request titled by its window, announced and audited like a command; a second one is refused', async () => {
    const res = await ask(alice.apiKey, { duration: '45m', reason: 'on call: INC-41' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ kind: 'access', status: 'PENDING', input: '', reason: 'on call: INC-41', access: { durationSec: 2700, endsAt: null, open: false }, groups: [{ group: 'dba-team', status: 'PENDING' }] });
    expect((await audit(res.body.id, 'review.created'))[0].detail).toMatchObject({ kind: 'access', accessSec: 2700, connection: 'prod-db' });
    const again = await ask(alice.apiKey, { duration: '30m', reason: 'again' });
    expect(again.status).toBe(409);
    expect(again.body.error.message).toContain(`request ${res.body.id} is waiting for its reviewers`);
    // Rejected, it grants nothing: alice's write is still held.
    expect((await t.api('PUT', `/api/reviews/${res.body.id}/reject`, { key: bob.apiKey, body: { reason: 'not now' } })).body.status).toBe('REJECTED');
    expect((await exec(alice.apiKey)).body.status).toBe('PENDING');
  });

  it('is never approved by an agent, whatever its groups; nor by its requester', async () => {
    const asked = await ask(alice.apiKey, { duration: '30m', reason: 'INC-43' });
    const byAgent = await approve(asked.body.id, botKey);
    expect(byAgent.status).toBe(403);
    expect(byAgent.body.error.message).toBe(AGENT_CANNOT_VOTE);
    expect((await approve(asked.body.id, alice.apiKey)).status).toBe(403);
    expect((await t.api('PUT', `/api/reviews/${asked.body.id}/reject`, { key: bob.apiKey, body: {} })).status).toBe(200);
  });
});

describe('a window\'s life, on the test\'s clock', () => {
  it('approved → commands run without review (guardrails still apply) → the window ends → commands are held again', async () => {
    const before = await exec(alice.apiKey);
    expect(before.body.status).toBe('PENDING');
    const id = await grantAlice('30m');
    const granted = (await t.api('GET', `/api/reviews/${id}`, { key: alice.apiKey })).body;
    expect(granted.access).toMatchObject({ durationSec: 1800, open: true, revokedAt: null });
    expect(new Date(granted.access.endsAt).getTime()).toBe(clock.now().getTime() + 1800_000);
    expect((await audit(id, 'review.access_granted')).length).toBe(1);
    // A second window while one is open: refused, naming it.
    const dup = await ask(alice.apiKey, { duration: '30m', reason: 'more' });
    expect(dup.status).toBe(409);
    expect(dup.body.error.message).toContain(`You already have access to prod-db until`);

    const ran = await exec(alice.apiKey);
    expect(ran.status).toBe(201);
    expect(ran.body).toMatchObject({ status: 'EXECUTED', grantId: id, kind: 'command', rowsAffected: 1, groups: [] });
    expect((await audit(ran.body.id, 'review.created'))[0].detail).toMatchObject({ grantId: id });
    expect((await audit(ran.body.id, 'review.no_review_required'))[0].detail).toEqual({ reason: 'access-grant', grantId: id });
    // The reviewers who granted the window see what ran under it; another developer does not.
    expect((await t.api('GET', `/api/reviews/${ran.body.id}`, { key: bob.apiKey })).status).toBe(200);
    expect((await t.api('GET', `/api/reviews?status=executed`, { key: bob.apiKey })).body.reviews.map((r: { id: string }) => r.id)).toContain(ran.body.id);
    expect((await t.api('GET', `/api/reviews/${ran.body.id}`, { key: dave.apiKey })).status).toBe(404);
    // Guardrails still apply under a window; and only alice's commands pass, not dave's.
    const drop = await exec(alice.apiKey, 'DROP TABLE accounts');
    expect(drop.status).toBe(422);
    expect(drop.body.error.message).toMatch(/no-drop-table/);
    expect((await exec(dave.apiKey)).body.status).toBe('PENDING');

    // One second past its end: held again, though nothing has recorded the end yet.
    clock.advance(1800_000 + 1000);
    expect((await exec(alice.apiKey)).body.status).toBe('PENDING');
    // The sweep records the end (as the end job would), once, and tells the requester.
    const ended = await waitFor(() => t.api('GET', `/api/reviews/${id}`, { key: alice.apiKey }), (r) => r.body.status === 'ENDED', 'the sweep to end the window');
    expect(ended.body.access).toMatchObject({ open: false, revokedAt: null, revokedBy: null });
    const endEvents = await audit(id, 'review.access_ended');
    expect(endEvents).toHaveLength(1);
    expect(endEvents[0]).toMatchObject({ actor: 'system', source: 'system' });
  });

  it('revoked mid-window by a reviewer: the next command is held at once, and the revocation is audited', async () => {
    const id = await grantAlice('1h');
    expect((await exec(alice.apiKey)).body.status).toBe('EXECUTED');
    // Not by an agent in the reviewer group (audited), not by a developer who cannot see it.
    const byAgent = await revoke(id, botKey);
    expect(byAgent.status).toBe(403);
    expect(byAgent.body.error.message).toBe(AGENT_CANNOT_REVOKE);
    expect((await audit(id, 'review.revoke_denied'))[0].detail).toMatchObject({ code: 'forbidden' });
    expect((await revoke(id, dave.apiKey)).status).toBe(404);
    const viewer = (await t.api('GET', `/api/reviews/${id}`, { key: bob.apiKey })).body.viewer;
    expect(viewer.canRevoke).toBe(true);
    expect((await t.api('GET', `/api/reviews/${id}`, { key: botKey })).body.viewer.canRevoke).toBe(false);

    clock.advance(60_000);
    const res = await revoke(id, bob.apiKey);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'ENDED', access: { open: false, revokedBy: 'bob@example.com', revokedAt: clock.now().toISOString() }, viewer: { canRevoke: false } });
    expect((await audit(id, 'review.access_revoked'))[0]).toMatchObject({ actor: 'bob@example.com' });
    expect((await exec(alice.apiKey)).body.status).toBe('PENDING');
    // Twice: nothing left to revoke. A command is not a window.
    const twice = await revoke(id, bob.apiKey);
    expect([twice.status, twice.body.error.message]).toEqual([409, expect.stringMatching(/not open \(it is ended\)/)]);
    const cmd = await exec(alice.apiKey);
    expect((await revoke(cmd.body.id, bob.apiKey)).status).toBe(400);
  });

  it('an admin\'s own window is granted at once, announced as approved automatically', async () => {
    const res = await ask(ADMIN_KEY, { duration: '15m', reason: 'migration check' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: 'GRANTED', autoApproved: true, access: { durationSec: 900, open: true } });
    expect((await revoke(res.body.id, ADMIN_KEY)).body.status).toBe('ENDED');
  });
});

describe('a window and the rules it was granted under', () => {
  it('ends when an admin changes the connection\'s access rules, revoked by that admin, audited with what changed', async () => {
    const id = await grantAlice('1h');
    // A change of anything else (the Slack channel) leaves it open.
    expect((await t.api('POST', '/api/connections?overwrite=true', { body: { name: 'prod-db', slackChannel: 'C0OPS' } })).status).toBe(200);
    expect((await t.api('GET', `/api/reviews/${id}`, { key: alice.apiKey })).body.status).toBe('GRANTED');
    expect((await t.api('POST', '/api/connections?overwrite=true', { body: { name: 'prod-db', maxAccessDuration: '90m' } })).status).toBe(200);
    const after = (await t.api('GET', `/api/reviews/${id}`, { key: alice.apiKey })).body;
    expect(after).toMatchObject({ status: 'ENDED', access: { revokedBy: 'root@example.com', open: false } });
    expect((await audit(id, 'review.access_revoked'))[0]).toMatchObject({ actor: 'root@example.com', detail: { reason: 'connection-policy-changed', changed: ['maxAccessSec'] } });
    expect((await exec(alice.apiKey)).body.status).toBe('PENDING');
    expect((await t.api('POST', '/api/connections?overwrite=true', { body: { name: 'prod-db', maxAccessDuration: '2h' } })).status).toBe(200);
  });

  it('is not granted when the rules changed while it was pending: the approval is refused, saying to reject it', async () => {
    const asked = await ask(alice.apiKey, { duration: '2h', reason: 'long debugging' });
    expect(asked.status).toBe(201);
    expect((await t.api('POST', '/api/connections?overwrite=true', { body: { name: 'prod-db', maxAccessDuration: '1h' } })).status).toBe(200);
    const refused = await approve(asked.body.id);
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toMatch(/can no longer be granted: it asks for longer than prod-db now allows\. Reject it/);
    expect((await t.api('PUT', `/api/reviews/${asked.body.id}/reject`, { key: bob.apiKey, body: {} })).status).toBe(200);
    expect((await t.api('POST', '/api/connections?overwrite=true', { body: { name: 'prod-db', maxAccessDuration: '2h' } })).status).toBe(200);
  });

  it('is asked once however many requests arrive at once: one is created, the others are told which', async () => {
    const answers = await Promise.all(Array.from({ length: 6 }, () => ask(dave.apiKey, { duration: '30m', reason: 'INC-50' })));
    expect(answers.map((a) => a.status).sort()).toEqual([201, 409, 409, 409, 409, 409]);
    const made = answers.find((a) => a.status === 201)!.body.id;
    for (const a of answers.filter((x) => x.status === 409)) expect(a.body.error.message).toContain(made);
    expect((await t.api('PUT', `/api/reviews/${made}/reject`, { key: bob.apiKey, body: {} })).status).toBe(200);
  });
});

describe('a connection that grants only windows (jit)', () => {
  it('refuses a command that needs review without a window (audited), runs reads, and lets an allowed agent ask', async () => {
    const refused = await exec(alice.apiKey, WRITE, 'jit-db');
    expect(refused.status).toBe(403);
    expect(refused.body.error.message).toMatch(/jit-db takes access requests, not per-command reviews.*hoop request access jit-db --duration 30m/);
    const blocked = await t.gateway.db.auditEvent.findFirst({ where: { action: 'review.blocked', actorId: alice.id, detail: { path: ['rule'], equals: 'access-window-required' } } });
    expect(blocked).not.toBeNull();
    expect(await t.gateway.db.review.count({ where: { connection: { name: 'jit-db' }, kind: 'command', requesterId: alice.id } })).toBe(0);
    const read = await exec(alice.apiKey, 'SELECT id FROM accounts', 'jit-db');
    expect(read.body.status).toBe('EXECUTED');

    // jitAgents: the agent asks (a person approves), and its write then runs under the window.
    const asked = await ask(botKey, { duration: '10m', reason: 'nightly repair job' }, 'jit-db');
    expect(asked.status).toBe(201);
    expect(asked.body).toMatchObject({ requesterKind: 'agent', requesterOwner: 'alice@example.com' });
    expect((await approve(asked.body.id)).body.status).toBe('GRANTED');
    const agentWrite = await t.api('POST', '/api/connections/jit-db/exec', { key: botKey, body: { input: WRITE, reason: 'repair' } });
    expect(agentWrite.body).toMatchObject({ status: 'EXECUTED', grantId: asked.body.id });
    // An agent cannot give up its window either; its owner's reviewers can.
    expect((await revoke(asked.body.id, botKey)).status).toBe(403);
    expect((await revoke(asked.body.id, bob.apiKey)).status).toBe(200);
  });
});

describe('the CLI', () => {
  it('hoop request access asks and prints the id; hoop get review shows the window; hoop review revoke closes it', async () => {
    const asked = await runHoop(['request', 'access', 'prod-db', '--duration', '20m', '--reason', 'INC-44', '--no-wait'], { apiUrl: t.baseUrl, key: alice.apiKey, home });
    expect(asked.code, asked.stderr).toBe(0);
    const id = asked.stdout.trim();
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(asked.stderr).toContain(`Access request ${id} is pending, waiting on dba-team`);
    expect((await approve(id)).body.status).toBe('GRANTED');
    const shown = await runHoop(['get', 'review', id], { apiUrl: t.baseUrl, key: alice.apiKey, home });
    expect(shown.stdout).toContain('Access:      Access for 20 minutes to prod-db');
    expect(shown.stdout).toMatch(/Ends:\s+\S+ \(open now\)/);
    const revoked = await runHoop(['review', 'revoke', id], { apiUrl: t.baseUrl, key: bob.apiKey, home });
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout).toContain("Revoked. alice@example.com's access to prod-db has ended");
    const bad = await runHoop(['request', 'access', 'prod-db', '--duration', '5h', '--reason', 'x'], { apiUrl: t.baseUrl, key: alice.apiKey, home });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('prod-db grants access for at most 2 hours');
  });
});
