// Guardrails, read-only reads, held writes, masking and access control, end to end — on
// PostgreSQL and on MariaDB.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slashCommand } from '../fakes/slack-requests.js';
import { createMysqlTarget, createTargetDatabase } from '../helpers/databases.js';
import { eventually, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { readEvents } from '../helpers/review-trace.js';

let t: TestGateway;
let pgTarget: Awaited<ReturnType<typeof createTargetDatabase>>;
let myTarget: Awaited<ReturnType<typeof createMysqlTarget>>;
let alice: { id: string; apiKey: string };
let dana: { id: string; apiKey: string };
let outsider: { id: string; apiKey: string };

const exec = (connection: string, input: string, key = alice.apiKey) => t.api('POST', `/api/connections/${connection}/exec`, { key, body: { input } });
const get = async (id: string) => (await t.api('GET', `/api/reviews/${id}`)).body;
const approve = (id: string) => t.api('PUT', `/api/reviews/${id}/approve`, { key: dana.apiKey });

function hoop(args: string[], key: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.resolve('bin/hoop.mjs'), ...args], { env: { PATH: process.env.PATH ?? '', HOME: '/nonexistent', HOOP_API_URL: t.baseUrl, HOOP_API_KEY: key } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  pgTarget = await createTargetDatabase();
  myTarget = await createMysqlTarget();
  t = await startTestGateway();
  alice = await t.createUser('alice@example.com', ['developers']);
  dana = await t.createUser('dana@example.com', ['dba-team']);
  outsider = await t.createUser('eve@example.com', ['marketing']);
  t.slack.users.set('UALICE', { email: 'alice@example.com' });
  t.slack.users.set('UDANA', { email: 'dana@example.com' });
  await t.slackPost(slashCommand('UALICE', 'subscribe'));
  await t.slackPost(slashCommand('UDANA', 'subscribe'));
  await pgTarget.query(`CREATE TABLE audit_log (at timestamptz DEFAULT now());
    CREATE FUNCTION touch() RETURNS int LANGUAGE sql AS $$ INSERT INTO audit_log DEFAULT VALUES RETURNING 1 $$;
    CREATE VIEW innocent AS SELECT touch() AS one;`);
  const body = { reviewers: ['dba-team'], maskColumns: ['email'], maskDetectors: ['credit_card'], allowedGroups: ['developers'] };
  expect((await t.api('POST', '/api/connections', { body: { name: 'pg', url: pgTarget.url, ...body } })).status).toBe(201);
  expect((await t.api('POST', '/api/connections', { body: { name: 'maria', url: myTarget.url, ...body } })).status).toBe(201);
});

afterAll(async () => {
  await t?.stop();
  await pgTarget?.drop();
  await myTarget?.drop();
});

describe.each([
  ['pg', 'PostgreSQL'],
  ['maria', 'MariaDB'],
])('on %s (%s)', (conn) => {
  it('blocks DROP TABLE with 422 and the rule, creates no request, and audits the attempt', async () => {
    const before = await t.gateway.db.review.count();
    const res = await exec(conn, 'SELECT 1; DROP TABLE users');
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({ code: 'guardrail_blocked', rule: 'no-drop-table' });
    expect(res.body.error.message).toContain('Dropping tables is blocked');
    expect(await t.gateway.db.review.count()).toBe(before);
    const audit = await t.gateway.db.auditEvent.findFirst({ where: { action: 'review.blocked' }, orderBy: { id: 'desc' } });
    expect(audit?.detail).toMatchObject({ connection: conn, rule: 'no-drop-table' });
    expect(audit?.actor).toBe('alice@example.com');
    expect((await exec(conn, 'TRUNCATE TABLE users')).body.error.rule).toBe('no-truncate');
  });

  it('runs a read at once, read-only, with masked values', async () => {
    const res = await exec(conn, 'SELECT id, email FROM users WHERE id = 1');
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: 'EXECUTED', readOnly: true, commandTags: ['SELECT 1'] });
    expect(res.body.output).toContain('a***@example.com');
    expect(res.body.output).not.toContain('ann@example.com');
    expect(res.body.classification).toMatchObject({ kind: 'read', statements: [{ kind: 'read', command: 'SELECT', tables: ['users'] }] });
    // No request is stored for a read: its audit events are its record, and they keep no value.
    expect(await t.gateway.db.review.findUnique({ where: { id: res.body.id } })).toBeNull();
    const events = await readEvents(t, res.body.id);
    expect(events.map((e) => e.action)).toEqual(['read.started', 'read.executed']);
    expect(events[0]).toMatchObject({ actor: 'alice@example.com', source: 'api', detail: { connection: conn, input: 'SELECT id, email FROM users WHERE id = 1', tables: ['users'] } });
    expect(events[1].detail).toMatchObject({ outcome: 'executed', rows: 1, commandTags: ['SELECT 1'], error: null });
    expect(events[1].detail.durationMs).toBeGreaterThan(0);
    expect(JSON.stringify(events)).not.toContain('ann@example.com');
  });

  it('holds a write for review, shows its classification, and runs it once approved', async () => {
    const res = await exec(conn, "UPDATE users SET status = 'gone' WHERE id = 2");
    expect(res.body.status).toBe('PENDING');
    expect(res.body.classification.statements[0]).toMatchObject({ kind: 'write', command: 'UPDATE', tables: ['users'] });
    await approve(res.body.id);
    const done = await eventually(async () => {
      const v = await get(res.body.id);
      return v.status === 'EXECUTED' && v;
    });
    expect(done.commandTags).toEqual(['UPDATE 1']);
  });

  it('warns about a write without WHERE, in the API and in Slack', async () => {
    const res = await exec(conn, "UPDATE users SET status = 'all'");
    expect(res.body.status).toBe('PENDING');
    expect(res.body.classification.statements[0].warnings[0]).toBe('UPDATE without WHERE changes every row of users');
    await t.slack.waitFor((calls) => calls.some((c) => c.method === 'chat.postMessage' && JSON.stringify(c.args.blocks ?? '').includes(res.body.id) && JSON.stringify(c.args.blocks).includes(':warning: UPDATE without WHERE')));
    await t.api('PUT', `/api/reviews/${res.body.id}/reject`, { key: dana.apiKey });
  });

  it('hides the connection from a user outside its allowed groups (404), everywhere', async () => {
    const res = await exec(conn, 'SELECT 1', outsider.apiKey);
    expect(res.status).toBe(404);
    expect(res.body.error.message).toContain(`no connection named "${conn}"`);
    const list = await t.api('GET', '/api/connections', { key: outsider.apiKey });
    expect(list.body.connections.map((c: any) => c.name)).not.toContain(conn);
    const mine = (await exec(conn, 'SELECT 2 AS two')).body;
    expect((await t.api('GET', `/api/reviews/${mine.id}`, { key: outsider.apiKey })).status).toBe(404);
    const held = (await exec(conn, "UPDATE users SET status = 'x' WHERE id = 3")).body;
    expect((await t.api('PUT', `/api/reviews/${held.id}/approve`, { key: outsider.apiKey })).status).toBe(404);
    expect((await t.api('PUT', `/api/reviews/${held.id}/reject`, { key: outsider.apiKey })).status).toBe(404);
    expect((await t.api('GET', '/api/reviews?status=pending', { key: outsider.apiKey })).body.reviews).toEqual([]);
    await t.api('PUT', `/api/reviews/${held.id}/reject`, { key: dana.apiKey });
    const cliList = await hoop(['admin', 'get', 'connections'], outsider.apiKey);
    expect(cliList.code).toBe(0);
    expect(cliList.stdout).not.toContain(conn);
    const cliExec = await hoop(['exec', conn, '-i', 'SELECT 1'], outsider.apiKey);
    expect(cliExec.code).toBe(2);
    expect(cliExec.stderr).toContain(`There is no connection named "${conn}"`);
    // The reviewers still see it: their group reviews it.
    expect((await t.api('GET', '/api/connections', { key: dana.apiKey })).body.connections.map((c: any) => c.name)).toContain(conn);
  });
});

describe('reads that a parser cannot see through', () => {
  it('holds a read of a view that calls a user function, and names the function', async () => {
    const res = await exec('pg', 'SELECT * FROM innocent');
    expect(res.body.status).toBe('PENDING');
    expect(res.body.readOnly).toBe(false);
    expect(res.body.classification.statements[0].kind).toBe('write');
    expect(res.body.classification.statements[0].warnings.join(' ')).toContain('public.touch()');
    expect(await pgTarget.query('SELECT count(*)::int AS n FROM audit_log')).toEqual([{ n: 0 }]);
    await t.api('PUT', `/api/reviews/${res.body.id}/reject`, { key: dana.apiKey });
  });

  it('holds a read followed by COMMIT and a write', async () => {
    const res = await exec('pg', 'SELECT 1; COMMIT; DELETE FROM users WHERE id = 3');
    expect(res.body.status).toBe('PENDING');
    expect(res.body.classification.kind).toBe('write');
    await t.api('PUT', `/api/reviews/${res.body.id}/reject`, { key: dana.apiKey });
  });

  it('holds what does not parse and says so', async () => {
    const res = await exec('pg', 'SELEC id FROM users');
    expect(res.body.status).toBe('PENDING');
    expect(res.body.classification).toMatchObject({ parsed: false, kind: 'unknown' });
    await t.slack.waitFor((calls) => calls.some((c) => c.method === 'chat.postMessage' && JSON.stringify(c.args.blocks ?? '').includes(res.body.id) && JSON.stringify(c.args.blocks).includes('Could not be parsed')));
    await t.api('PUT', `/api/reviews/${res.body.id}/reject`, { key: dana.apiKey });
  });
});

describe('guardrails set by an admin', () => {
  it('are checked again right before execution', async () => {
    const res = await exec('pg', "UPDATE users SET status = 'late-block' WHERE id = 1");
    expect(res.body.status).toBe('PENDING');
    const set = await t.api('POST', '/api/connections?overwrite=true', {
      body: { name: 'pg', guardrails: [{ type: 'regex', pattern: 'late-block', name: 'no-late', message: 'Not today.' }, { type: 'deny-unbounded-write' }] },
    });
    expect(set.status).toBe(200);
    expect(set.body.connection.guardrails.map((g: any) => g.name)).toEqual(['no-late', 'no-unbounded-write']);
    await approve(res.body.id);
    const done = await eventually(async () => {
      const v = await get(res.body.id);
      return v.status === 'FAILED' && v;
    });
    expect(done.error).toContain('blocked before execution by the guardrail "no-late"');
    expect(await pgTarget.query('SELECT status FROM users WHERE id = 1')).toEqual([{ status: 'active' }]);
    expect((await exec('pg', 'DELETE FROM users')).body.error.rule).toBe('no-unbounded-write');
  });

  it('are validated: a bad regex or an unknown rule type is a 400 that says what to fix', async () => {
    const badRegex = await t.api('POST', '/api/connections?overwrite=true', { body: { name: 'pg', guardrails: [{ type: 'regex', pattern: '(' }] } });
    expect(badRegex.status).toBe(400);
    expect(badRegex.body.error.message).toContain('not a valid regular expression');
    const badType = await t.api('POST', '/api/connections?overwrite=true', { body: { name: 'pg', guardrails: [{ type: 'deny-everything' }] } });
    expect(badType.body.error.message).toContain('unknown type');
    const badMode = await t.api('POST', '/api/connections?overwrite=true', { body: { name: 'pg', reviewMode: 'sometimes' } });
    expect(badMode.body.error.message).toContain('reviewMode');
  });
});

describe('masking', () => {
  it('reaches the Slack thread replies masked', async () => {
    const res = await exec('pg', "UPDATE users SET status = 'r' WHERE id = 2 RETURNING id, email");
    await approve(res.body.id);
    // pg has allowed groups: its result shows in the reviewers' DMs, and is withheld in the shared channel.
    const calls = await t.slack.waitFor((cs) => cs.some((c) => c.method === 'chat.postMessage' && c.args.thread_ts && c.args.channel === 'UDANA' && String(c.args.text).includes(res.body.id)));
    const reply = JSON.stringify(calls.filter((c) => c.method === 'chat.postMessage' && c.args.thread_ts && String(c.args.text).includes(res.body.id)));
    expect(reply).toContain('b***@example.com');
    expect(reply).not.toContain('bob@example.com');
    expect((await get(res.body.id)).output).toContain('b***@example.com');
  });

  it('reaches the CLI and the requester\'s Slack DM masked', async () => {
    const res = await exec('maria', "UPDATE users SET status = 'card 4111 1111 1111 1111' WHERE id = 3");
    await approve(res.body.id);
    await eventually(async () => (await get(res.body.id)).status === 'EXECUTED');
    const read = await hoop(['exec', 'maria', '-i', 'SELECT email, status FROM users WHERE id = 3'], alice.apiKey);
    expect(read.code).toBe(0);
    expect(read.stdout).toContain('c***@example.com');
    expect(read.stdout).toContain('card ****1111');
    expect(read.stdout).not.toContain('4111 1111');
    // A read that runs at once answers its caller only: no Slack message carries it (an agent's
    // thousands of reads would bury its owner's DMs), and none carries the clear values.
    await new Promise((r) => setTimeout(r, 500));
    const posts = JSON.stringify(t.slack.calls.filter((c) => c.method === 'chat.postMessage'));
    expect(posts).not.toContain('cy@example.com');
    expect(posts).not.toContain('SELECT email, status FROM users WHERE id = 3');
  });
});
