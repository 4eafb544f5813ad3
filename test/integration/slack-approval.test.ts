import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blockAction, rejectSubmission, slashCommand } from '../fakes/slack-requests.js';
import { createTargetDatabase } from '../helpers/databases.js';
import { eventually, startTestGateway, type TestGateway } from '../helpers/gateway.js';

let t: TestGateway;
let target: Awaited<ReturnType<typeof createTargetDatabase>>;
let alice: { id: string; apiKey: string }; // requester, in no reviewer group
let dana: { id: string; apiKey: string }; // dba-team

async function subscribe(slackId: string, email: string) {
  t.slack.users.set(slackId, { email });
  const res = await t.slackPost(slashCommand(slackId, 'subscribe'));
  expect(res.status).toBe(200);
  return res.body;
}

async function submit(connection: string, input: string, key = alice.apiKey, reason = 'ticket OPS-1') {
  const res = await t.api('POST', `/api/connections/${connection}/exec`, { key, body: { input, reason } });
  expect(res.status).toBe(201);
  return res.body;
}

function button(reviewId: string, group: string) {
  return JSON.stringify({ reviewId, group });
}

const review = async (id: string) => (await t.api('GET', `/api/reviews/${id}`)).body;

beforeAll(async () => {
  t = await startTestGateway();
  target = await createTargetDatabase();
  alice = await t.createUser('alice@example.com', ['developers']);
  dana = await t.createUser('dana@example.com', ['dba-team']);
  await t.createUser('sam@example.com', ['security']);
  await t.createUser('bo@example.com', ['dba-team', 'security']);
  await t.api('POST', '/api/connections', { body: { name: 'prod-db', url: target.url, reviewers: ['dba-team'], reviewMode: 'all' } });
  await t.api('POST', '/api/connections', { body: { name: 'sensitive', url: target.url, reviewers: ['dba-team', 'security'], reviewMode: 'all', slackChannel: 'C-SENSITIVE' } });
  await subscribe('UALICE', 'alice@example.com');
  await subscribe('UDANA', 'Dana@Example.com');
  await subscribe('USAM', 'sam@example.com');
  await subscribe('UBO', 'bo@example.com');
});

afterAll(async () => {
  await t?.stop();
  await target?.drop();
});

describe('/hoop subscribe', () => {
  it('links the Slack user to the hoop user with the same email and confirms ephemerally', async () => {
    const body = await subscribe('UDANA', 'dana@example.com');
    expect(body.response_type).toBe('ephemeral');
    expect(body.text).toContain('dana@example.com');
    const users = (await t.api('GET', '/api/users')).body.users;
    expect(users.find((u: any) => u.email === 'dana@example.com').slackUserId).toBe('UDANA');
  });

  it('tells a Slack user with an unknown email what to do, and links nothing', async () => {
    const body = await subscribe('UNOBODY', 'nobody@example.com');
    expect(body.text).toMatch(/No hoop user has the email nobody@example.com.*hoop admin create user/);
    const users = (await t.api('GET', '/api/users')).body.users;
    expect(users.some((u: any) => u.slackUserId === 'UNOBODY')).toBe(false);
  });

  it('answers help and unknown sub-commands', async () => {
    expect((await t.slackPost(slashCommand('UDANA', 'help'))).body.text).toContain('/hoop subscribe');
    expect((await t.slackPost(slashCommand('UDANA', 'frobnicate'))).body.text).toContain('Unknown command `frobnicate`');
  });
});

describe('a request on a connection with one reviewer group', () => {
  it('posts one message per reviewer DM and to the channel, runs on approval and replies in every thread', async () => {
    const r = await submit('prod-db', "UPDATE users SET status = 'inactive' WHERE id = 1");
    expect(r.status).toBe('PENDING');
    // dba-team members dana and bo by DM, plus the default channel; never the requester.
    const posts = await t.slack.waitFor((calls) => calls.filter((c) => c.method === 'chat.postMessage' && JSON.stringify(c.args.blocks).includes(r.id)).length === 3);
    const mine = posts.filter((c) => c.method === 'chat.postMessage' && JSON.stringify(c.args.blocks).includes(r.id));
    expect(mine.map((c) => c.args.channel).sort()).toEqual(['C-REVIEWS', 'UBO', 'UDANA']);
    const text = JSON.stringify(mine[0].args.blocks);
    expect(text).toContain("UPDATE users SET status = 'inactive' WHERE id = 1");
    expect(text).toContain('ticket OPS-1');
    expect(text).toContain('review.approve');
    expect(await target.query('SELECT status FROM users WHERE id = 1')).toEqual([{ status: 'active' }]);

    const click = await t.slackPost(blockAction('UDANA', 'review.approve', button(r.id, 'dba-team')));
    expect(click.status).toBe(200);
    const done = await eventually(async () => {
      const v = await review(r.id);
      return v.status === 'EXECUTED' && v;
    });
    expect(done.commandTags).toEqual(['UPDATE 1']);
    expect(done.rowsAffected).toBe(1);
    expect(done.groups).toEqual([expect.objectContaining({ group: 'dba-team', status: 'APPROVED', reviewer: 'dana@example.com' })]);
    expect(await target.query('SELECT status FROM users WHERE id = 1')).toEqual([{ status: 'inactive' }]);

    // Thread replies under each of the three messages, and a DM to the linked requester.
    const replies = await t.slack.waitFor((calls) => calls.filter((c) => c.method === 'chat.postMessage' && c.args.thread_ts && JSON.stringify(c.args.blocks).includes('UPDATE 1')).length === 3);
    const threadTs = new Set(mine.map((m) => m.args.channel));
    expect(replies.filter((c) => c.args.thread_ts).length).toBeGreaterThanOrEqual(3);
    expect(threadTs.size).toBe(3);
    await t.slack.waitFor((calls) => calls.some((c) => c.method === 'chat.postMessage' && c.args.channel === 'UALICE' && JSON.stringify(c.args.blocks).includes('Executed')));

    // Every message updated in place: buttons gone, who approved shown.
    await t.slack.waitFor((calls) => calls.filter((c) => c.method === 'chat.update' && JSON.stringify(c.args.blocks).includes('Approved and executed')).length >= 3);
    const last = t.slack.callsOf('chat.update').filter((c) => JSON.stringify(c.args.blocks).includes(r.id)).at(-1)!;
    const blocks = JSON.stringify(last.args.blocks);
    expect(blocks).not.toContain('review.approve');
    expect(blocks).toContain('approved by <@UDANA>');
    expect(blocks).toContain('Approved by 1 of 1 group');
  });

  it('leaves the request pending and tells a clicker who may not see it that there is no such request', async () => {
    const r = await submit('prod-db', "UPDATE users SET status = 'x' WHERE id = 2");
    const before = t.slack.callsOf('chat.postEphemeral').length;
    await t.slackPost(blockAction('USAM', 'review.approve', button(r.id, 'dba-team')));
    const eph = await t.slack.waitFor((calls) => calls.filter((c) => c.method === 'chat.postEphemeral').length > before);
    const msg = eph.filter((c) => c.method === 'chat.postEphemeral').at(-1)!;
    expect(msg.args.user).toBe('USAM');
    expect(msg.args.text).toContain(`No request has the id ${r.id}`);
    expect(msg.args.text).not.toContain('dba-team');
    expect((await review(r.id)).status).toBe('PENDING');
    const audit = await t.gateway.db.auditEvent.findMany({ where: { reviewId: r.id, action: 'review.vote_denied' } });
    expect(audit).toHaveLength(1);
  });

  it('tells a clicker who has not subscribed to run /hoop subscribe', async () => {
    const r = await submit('prod-db', "UPDATE users SET status = 'y' WHERE id = 2");
    const before = t.slack.callsOf('chat.postEphemeral').length;
    await t.slackPost(blockAction('USTRANGER', 'review.approve', button(r.id, 'dba-team')));
    const eph = await t.slack.waitFor((calls) => calls.filter((c) => c.method === 'chat.postEphemeral').length > before);
    expect(eph.filter((c) => c.method === 'chat.postEphemeral').at(-1)!.args.text).toContain('/hoop subscribe');
    expect((await review(r.id)).status).toBe('PENDING');
  });

  it('refuses self-approval by a requester who is in the reviewer group', async () => {
    const r = await submit('prod-db', 'UPDATE users SET status = status WHERE id = 3', dana.apiKey);
    const before = t.slack.callsOf('chat.postEphemeral').length;
    await t.slackPost(blockAction('UDANA', 'review.approve', button(r.id, 'dba-team')));
    const eph = await t.slack.waitFor((calls) => calls.filter((c) => c.method === 'chat.postEphemeral').length > before);
    expect(eph.filter((c) => c.method === 'chat.postEphemeral').at(-1)!.args.text).toContain('cannot approve your own request');
    expect((await review(r.id)).status).toBe('PENDING');
    // The requester is not asked to review their own request.
    await t.slack.waitFor((calls) => calls.some((c) => c.method === 'chat.postMessage' && JSON.stringify(c.args.blocks ?? '').includes(r.id)));
    const dms = t.slack.callsOf('chat.postMessage').filter((c) => JSON.stringify(c.args.blocks ?? '').includes(r.id)).map((c) => c.args.channel);
    expect(dms).not.toContain('UDANA');
  });

  it('rejects through the modal with a reason shown to everyone, and never runs', async () => {
    const r = await submit('prod-db', 'DELETE FROM users WHERE id = 3');
    await t.slackPost(blockAction('UBO', 'review.reject', button(r.id, 'dba-team')));
    const open = await t.slack.waitFor((calls) => calls.some((c) => c.method === 'views.open' && c.args.view.private_metadata.includes(r.id)));
    const view = open.filter((c) => c.method === 'views.open').at(-1)!.args.view;
    expect(view.callback_id).toBe('review.reject-modal');
    expect((await review(r.id)).status).toBe('PENDING'); // opening the modal decides nothing

    const submitted = await t.slackPost(rejectSubmission('UBO', view.private_metadata, 'no ticket for this'));
    expect(submitted.status).toBe(200);
    const v = await review(r.id);
    expect(v.status).toBe('REJECTED');
    expect(v.rejectReason).toBe('no ticket for this');
    expect(v.groups[0]).toMatchObject({ status: 'REJECTED', reviewer: 'bo@example.com', reason: 'no ticket for this' });
    await t.slack.waitFor((calls) => calls.some((c) => c.method === 'chat.update' && JSON.stringify(c.args.blocks).includes('no ticket for this') && JSON.stringify(c.args.blocks).includes(r.id)));
    await t.slack.waitFor((calls) => calls.some((c) => c.method === 'chat.postMessage' && c.args.channel === 'UALICE' && JSON.stringify(c.args.blocks).includes('rejected')));
    expect(await target.query('SELECT count(*)::int AS n FROM users WHERE id = 3')).toEqual([{ n: 1 }]);
    expect(v.startedAt).toBeNull();
  });

  it('keeps a reason sent with a NUL character, which the database cannot store, with U+FFFD in its place', async () => {
    const r = await submit('prod-db', 'DELETE FROM users WHERE id = 3');
    const meta = JSON.stringify({ reviewId: r.id, group: 'dba-team', channel: 'C-REVIEWS' });
    const submitted = await t.slackPost(rejectSubmission('UBO', meta, 'bad\u0000reason'));
    expect(submitted.status).toBe(200);
    const v = await review(r.id);
    expect(v.status).toBe('REJECTED');
    expect(v.rejectReason).toBe('bad\uFFFDreason');
  });

  it('shows a modal error instead of rejecting twice', async () => {
    const r = await submit('prod-db', 'DELETE FROM users WHERE id = 2');
    const meta = JSON.stringify({ reviewId: r.id, group: 'dba-team', channel: 'C-REVIEWS' });
    expect((await t.slackPost(rejectSubmission('UBO', meta, null))).body).toBe('');
    const again = await t.slackPost(rejectSubmission('UDANA', meta, 'me too'));
    expect(again.body).toMatchObject({ response_action: 'errors' });
    expect(again.body.errors.reason).toContain('already rejected');
  });
});

describe('a request decided before its Slack messages went out', () => {
  it('posts the messages in their final state, each with the result in its thread', async () => {
    const mark = 'SELECT 31337 AS late';
    t.slack.failNext('chat.postMessage', { status: 500, match: (args) => JSON.stringify(args.blocks ?? '').includes(mark) });
    const r = await submit('prod-db', mark);
    const ok = await t.api('PUT', `/api/reviews/${r.id}/approve`, { key: dana.apiKey });
    expect(ok.status).toBe(200);
    await eventually(async () => (await review(r.id)).status === 'EXECUTED');
    // The post job retries after its backoff; then every message shows the outcome, with a reply.
    const calls = await t.slack.waitFor(
      (cs) => cs.filter((c) => c.method === 'chat.postMessage' && c.args.thread_ts && String(c.args.text).includes(r.id)).length === 3,
      15_000,
    );
    const requests = await t.gateway.db.channelMessage.findMany({ where: { channel: 'slack', reviewId: r.id, kind: 'request' } });
    expect(requests).toHaveLength(3);
    const replies = calls.filter((c) => c.method === 'chat.postMessage' && c.args.thread_ts && String(c.args.text).includes(r.id));
    expect(replies.map((c) => c.args.thread_ts).sort()).toEqual(requests.map((m) => m.messageRef).sort());
    const latest = (seen: typeof calls, channel: string) => {
      const updates = seen.filter((c) => c.method === 'chat.update' && c.args.channel === channel && JSON.stringify(c.args.blocks).includes(r.id));
      const posts = seen.filter((c) => c.method === 'chat.postMessage' && !c.args.thread_ts && JSON.stringify(c.args.blocks ?? '').includes(r.id));
      const last = posts.filter((p) => p.args.channel === channel || `D${p.args.channel.slice(1)}` === channel).at(-1);
      return JSON.stringify((updates.at(-1) ?? last)!.args.blocks);
    };
    // The updates and the thread replies travel side by side: a reply may come before the update.
    const final = await t.slack.waitFor((cs) => requests.every((m) => latest(cs, m.conversationRef!).includes('Approved and executed')), 10_000).catch(() => t.slack.calls);
    for (const m of requests) expect(latest(final, m.conversationRef!)).toContain('Approved and executed');
  });
});

describe('a request on a connection with two reviewer groups', () => {
  it('stays pending after one group approves and runs once the second approves', async () => {
    const r = await submit('sensitive', "UPDATE users SET email = 'b@example.com' WHERE id = 2");
    await t.slackPost(blockAction('UDANA', 'review.approve', button(r.id, 'dba-team'), 'C-SENSITIVE'));
    const half = await eventually(async () => {
      const v = await review(r.id);
      return v.approvals.approved === 1 && v;
    });
    expect(half.status).toBe('PENDING');
    await t.slack.waitFor((calls) => calls.some((c) => c.method === 'chat.update' && JSON.stringify(c.args.blocks).includes('Approved by 1 of 2 groups') && JSON.stringify(c.args.blocks).includes(r.id)));
    expect(await target.query('SELECT email FROM users WHERE id = 2')).toEqual([{ email: 'bob@example.com' }]);

    await t.slackPost(blockAction('USAM', 'review.approve', button(r.id, 'security'), 'C-SENSITIVE'));
    const done = await eventually(async () => {
      const v = await review(r.id);
      return v.status === 'EXECUTED' && v;
    });
    expect(done.groups.map((g: any) => [g.group, g.status, g.reviewer])).toEqual([
      ['dba-team', 'APPROVED', 'dana@example.com'],
      ['security', 'APPROVED', 'sam@example.com'],
    ]);
    expect(await target.query('SELECT email FROM users WHERE id = 2')).toEqual([{ email: 'b@example.com' }]);
  });

  it('lets a reviewer in both groups approve only the group whose button they pressed', async () => {
    const r = await submit('sensitive', 'UPDATE users SET status = status WHERE id = 1');
    await t.slackPost(blockAction('UBO', 'review.approve', button(r.id, 'security'), 'C-SENSITIVE'));
    const v = await eventually(async () => {
      const x = await review(r.id);
      return x.approvals.approved === 1 && x;
    });
    expect(v.status).toBe('PENDING');
    expect(v.groups.find((g: any) => g.group === 'dba-team').status).toBe('PENDING');
    expect(v.groups.find((g: any) => g.group === 'security').reviewer).toBe('bo@example.com');
  });

  it('runs exactly once when both groups approve at the same moment, and a double click changes nothing', async () => {
    const r = await submit('sensitive', "INSERT INTO users VALUES (100, 'race@example.com')");
    const clicks = await Promise.all([
      t.slackPost(blockAction('UDANA', 'review.approve', button(r.id, 'dba-team'), 'C-SENSITIVE')),
      t.slackPost(blockAction('USAM', 'review.approve', button(r.id, 'security'), 'C-SENSITIVE')),
      t.slackPost(blockAction('UDANA', 'review.approve', button(r.id, 'dba-team'), 'C-SENSITIVE')),
      t.slackPost(blockAction('USAM', 'review.approve', button(r.id, 'security'), 'C-SENSITIVE')),
    ]);
    expect(clicks.map((c) => c.status)).toEqual([200, 200, 200, 200]);
    const done = await eventually(async () => {
      const v = await review(r.id);
      return v.status === 'EXECUTED' && v;
    });
    expect(done.error).toBeNull(); // a second INSERT of id 100 would have failed
    const started = await t.gateway.db.auditEvent.count({ where: { reviewId: r.id, action: 'review.execution_started' } });
    expect(started).toBe(1);
    expect(await target.query('SELECT count(*)::int AS n FROM users WHERE id = 100')).toEqual([{ n: 1 }]);
  });
});

describe('an admin\'s own request', () => {
  it('is approved automatically, audited as such, and runs at once', async () => {
    const admin = await t.createUser('ops-admin@example.com', ['dba-team'], true);
    const res = await t.api('POST', '/api/connections/prod-db/exec', { key: admin.apiKey, body: { input: 'SELECT id, email FROM users ORDER BY id LIMIT 2' } });
    expect(res.status).toBe(201);
    expect(res.body.status).toBe('EXECUTED');
    expect(res.body.autoApproved).toBe(true);
    expect(res.body.output).toContain('ann@example.com');
    expect(res.body.output).toContain('(2 rows)');
    const audit = await t.gateway.db.auditEvent.findMany({ where: { reviewId: res.body.id }, orderBy: { id: 'asc' } });
    expect(audit.map((a) => a.action)).toEqual(['review.created', 'review.auto_approved', 'review.execution_started', 'review.executed']);
  });
});

describe('Slack request verification', () => {
  const fields = () => slashCommand('UDANA', 'help');

  it('refuses a request signed with the wrong secret', async () => {
    expect((await t.slackPost(fields(), { secret: 'not-the-secret' })).status).toBe(401);
  });

  it('refuses a request whose timestamp is six minutes old', async () => {
    expect((await t.slackPost(fields(), { timestamp: Math.floor(Date.now() / 1000) - 360 })).status).toBe(401);
  });

  it('refuses a request whose timestamp is an hour in the future', async () => {
    expect((await t.slackPost(fields(), { timestamp: Math.floor(Date.now() / 1000) + 3600 })).status).toBe(401);
  });

  it('refuses a request without signature headers', async () => {
    const res = await fetch(`${t.baseUrl}/slack/events`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields()).toString() });
    expect(res.status).toBe(401);
  });

  it('refuses a forged button click and changes nothing', async () => {
    const r = await submit('prod-db', 'UPDATE users SET status = status WHERE id = 1');
    const res = await t.slackPost(blockAction('UDANA', 'review.approve', button(r.id, 'dba-team')), { secret: 'forged' });
    expect(res.status).toBe(401);
    expect((await review(r.id)).status).toBe('PENDING');
  });
});
