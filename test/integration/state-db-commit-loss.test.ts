// The state database's connection is cut at the worst moments of a submit or a vote: the COMMIT is
// lost on its way (nothing happened), its answer is lost (it happened, the gateway was not told),
// or the database is gone right after the COMMIT (it happened, nothing can be read back). The
// client is told what happened, never an error for a thing that was done, never a success for a
// thing that was not; a Slack click that could not be recorded is answered in Slack.
import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { blockAction, rejectSubmission, slashCommand } from '../fakes/slack-requests.js';
import { uniqueName } from '../helpers/databases.js';
import { eventually, type TestGateway } from '../helpers/gateway.js';
import { useFaultyStateFixture, type FaultyStateFixture } from '../helpers/faulty-state-fixture.js';
import type { PgFaultProxy } from '../helpers/pg-fault-proxy.js';

let t: TestGateway;
let proxy: PgFaultProxy;
let checker: pg.Client;
let alice: FaultyStateFixture['alice'];
let dana: FaultyStateFixture['dana'];

/** Longer than the gateway's read-back retries (about 1.5 s). */
const OUTAGE_MS = 2500;

async function call(method: string, path: string, key: string, body?: unknown) {
  const res = await fetch(t.baseUrl + path, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: await res.json() };
}

const submit = (reason: string) => call('POST', '/api/connections/prod-db/exec', alice.apiKey, { input: "UPDATE users SET status = 'x' WHERE id = 2", reason });
const approve = (id: string) => call('PUT', `/api/reviews/${id}/approve`, dana.apiKey, {});
const reviewsWithReason = async (reason: string) => (await checker.query(`SELECT id, status FROM "Review" WHERE reason = $1`, [reason])).rows as { id: string; status: string }[];
const groupOf = async (id: string) => (await checker.query(`SELECT g.status, u.email FROM "ReviewGroup" g LEFT JOIN "User" u ON u.id = g."reviewerId" WHERE g."reviewId" = $1`, [id])).rows[0];

/** A pending request, made while nothing is wrong. */
async function pending(): Promise<string> {
  const r = await submit(uniqueName('pending'));
  expect(r.status).toBe(201);
  return r.body.id;
}

/** Waits until the gateway serves again after an outage. */
async function servedAgain() {
  proxy.up();
  await eventually(async () => (await call('GET', '/api/me', alice.apiKey)).status === 200, 10_000, 'the gateway to serve again');
}

useFaultyStateFixture({ slack: true }, (f) => ({ t, proxy, checker, alice, dana } = f));
beforeAll(async () => {
  t.slack.users.set('UDANA', { email: 'dana@example.com' });
  expect((await t.slackPost(slashCommand('UDANA', 'subscribe'))).status).toBe(200);
});

describe('submit', () => {
  it('when the COMMIT never reached the database: a retryable 503, and no request exists', async () => {
    const reason = uniqueName('lost-commit');
    const fired = proxy.arm('lose-commit');
    const r = await submit(reason);
    await fired;
    expect(r.status).toBe(503);
    expect(Number(r.retryAfter)).toBeGreaterThan(0);
    expect(r.body.error.message).toMatch(/no request was created/);
    expect(await reviewsWithReason(reason)).toEqual([]);
  });

  it('when the COMMIT happened but its answer was lost: 201 with the request, which exists', async () => {
    const reason = uniqueName('lost-answer');
    const fired = proxy.arm('lose-commit-answer');
    const r = await submit(reason);
    await fired;
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body.status).toBe('PENDING');
    expect(await reviewsWithReason(reason)).toEqual([{ id: r.body.id, status: 'PENDING' }]);
  });

  it('when the database is gone right after the COMMIT: 201 with the request as stored', async () => {
    const reason = uniqueName('gone-after');
    const fired = proxy.arm('down-after-commit', { downForMs: OUTAGE_MS });
    const r = await submit(reason);
    await fired;
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body).toMatchObject({ status: 'PENDING', reason, requester: 'alice@example.com', connection: 'prod-db' });
    expect(r.body.groups).toMatchObject([{ group: 'dba-team', status: 'PENDING' }]);
    await servedAgain();
    expect(await reviewsWithReason(reason)).toEqual([{ id: r.body.id, status: 'PENDING' }]);
  });

  it('when the answer of the COMMIT was lost and the database is gone: a 503 that says the outcome is unknown and names the request', async () => {
    const reason = uniqueName('unknown');
    const fired = proxy.arm('lose-commit-answer', { downForMs: OUTAGE_MS });
    const r = await submit(reason);
    await fired;
    expect(r.status).toBe(503);
    expect(r.body.error.outcome).toBe('unknown');
    expect(r.body.error.message).toMatch(/cannot tell yet whether it was saved/);
    expect(r.body.error.message).toContain(`GET /api/reviews/${r.body.error.id}`);
    await servedAgain();
    // It was saved: the answer did not say it was not.
    expect(await reviewsWithReason(reason)).toEqual([{ id: r.body.error.id, status: 'PENDING' }]);
  });
});

describe('an admin write', () => {
  // No look-up after a lost COMMIT answer here (a retry is refused as a conflict, or makes a second
  // key): the answer must not claim the change was not made.
  it('when the COMMIT happened but its answer was lost: a 503 that says the change may have been made, and to look first', async () => {
    const email = `${uniqueName('lost')}@example.com`;
    const fired = proxy.arm('lose-commit-answer');
    const r = await call('POST', '/api/users', t.env.ADMIN_API_KEY, { email, groups: ['developers'] });
    await fired;
    expect(r.status).toBe(503);
    expect(Number(r.retryAfter)).toBeGreaterThan(0);
    expect(r.body.error.message).toBe('The gateway lost its connection to its database while handling this request. The change may or may not have been made: look (GET) before trying again in 2 s.');
    expect(r.body.error.message).not.toMatch(/nothing was changed/);
    const { rows } = await checker.query('SELECT email FROM "User" WHERE email = $1', [email]);
    expect(rows).toEqual([{ email }]);
  });
});

describe('approve', () => {
  it('when the COMMIT never reached the database: a retryable 503, and the request is still pending', async () => {
    const id = await pending();
    const fired = proxy.arm('lose-commit');
    const r = await approve(id);
    await fired;
    expect(r.status).toBe(503);
    expect(Number(r.retryAfter)).toBeGreaterThan(0);
    expect(r.body.error.message).toMatch(/your vote was not recorded/);
    expect(await groupOf(id)).toEqual({ status: 'PENDING', email: null });
    // And the retry it was told to make works.
    expect((await approve(id)).status).toBe(200);
  });

  it('when the COMMIT happened but its answer was lost: 200 with the approval, which is recorded', async () => {
    const id = await pending();
    const fired = proxy.arm('lose-commit-answer');
    const r = await approve(id);
    await fired;
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.status).toBe('APPROVED');
    expect(await groupOf(id)).toEqual({ status: 'APPROVED', email: 'dana@example.com' });
  });

  it('when the database is gone right after the COMMIT: 200 with the approval as committed', async () => {
    const id = await pending();
    const fired = proxy.arm('down-after-commit', { downForMs: OUTAGE_MS });
    const r = await approve(id);
    await fired;
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body).toMatchObject({ id, status: 'APPROVED', groups: [{ group: 'dba-team', status: 'APPROVED', reviewer: 'dana@example.com' }] });
    await servedAgain();
    expect(await groupOf(id)).toEqual({ status: 'APPROVED', email: 'dana@example.com' });
  });
});

describe('a Slack click while the database is unavailable', () => {
  const ephemeralsTo = (user: string) => t.slack.callsOf('chat.postEphemeral').filter((c) => c.args.user === user);

  it('Approve: tells the clicker the vote was not recorded, and the request stays pending', async () => {
    const id = await pending();
    const before = ephemeralsTo('UDANA').length;
    proxy.down(OUTAGE_MS);
    const res = await t.slackPost(blockAction('UDANA', 'review.approve', JSON.stringify({ reviewId: id, group: 'dba-team' })));
    expect(res.status).toBe(200);
    await t.slack.waitFor(() => ephemeralsTo('UDANA').length > before, 5000);
    expect(ephemeralsTo('UDANA').at(-1)!.args.text).toMatch(/approval was not recorded: the gateway's database is unavailable.*Try again/);
    await servedAgain();
    expect(await groupOf(id)).toEqual({ status: 'PENDING', email: null });
  });

  it('Approve whose COMMIT happened but its answer was lost: the vote counts, and the clicker is not told otherwise', async () => {
    const id = await pending();
    const before = ephemeralsTo('UDANA').length;
    const fired = proxy.arm('lose-commit-answer');
    const res = await t.slackPost(blockAction('UDANA', 'review.approve', JSON.stringify({ reviewId: id, group: 'dba-team' })));
    expect(res.status).toBe(200);
    await fired;
    await eventually(async () => (await groupOf(id)).status === 'APPROVED', 5000, 'the vote to be recorded');
    expect(await groupOf(id)).toEqual({ status: 'APPROVED', email: 'dana@example.com' });
    // Long enough for a wrong "not recorded" message to have been sent.
    await new Promise((r) => setTimeout(r, 1500));
    expect(ephemeralsTo('UDANA').slice(before).map((c) => c.args.text)).not.toContainEqual(expect.stringMatching(/not recorded/));
  });

  it('Reject button: tells the clicker, opens no form', async () => {
    const id = await pending();
    const before = ephemeralsTo('UDANA').length;
    const opened = t.slack.callsOf('views.open').length;
    proxy.down(OUTAGE_MS);
    await t.slackPost(blockAction('UDANA', 'review.reject', JSON.stringify({ reviewId: id, group: 'dba-team' })));
    await t.slack.waitFor(() => ephemeralsTo('UDANA').length > before, 5000);
    expect(ephemeralsTo('UDANA').at(-1)!.args.text).toMatch(/rejection was not recorded: the gateway's database is unavailable/);
    expect(t.slack.callsOf('views.open').length).toBe(opened);
    await servedAgain();
  });

  it('the reject form: stays open with the reason it was not recorded', async () => {
    const id = await pending();
    proxy.down(OUTAGE_MS);
    const res = await t.slackPost(rejectSubmission('UDANA', JSON.stringify({ reviewId: id, group: 'dba-team', channel: 'C-REVIEWS' }), 'not now'));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ response_action: 'errors' });
    expect(res.body.errors.reason).toMatch(/rejection was not recorded: the gateway's database is unavailable/);
    await servedAgain();
    expect(await groupOf(id)).toEqual({ status: 'PENDING', email: null });
  });
});
