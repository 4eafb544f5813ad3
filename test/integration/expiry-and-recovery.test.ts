import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/clock.js';
import { blockAction } from '../fakes/slack-requests.js';
import { startFakeSlack, type FakeSlack } from '../fakes/fake-slack.js';
import { createStateDatabase, createTargetDatabase, uniqueName } from '../helpers/databases.js';
import { deleteQueues, eventually, startTestGateway, type TestGateway } from '../helpers/gateway.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let slack: FakeSlack;
let state: Awaited<ReturnType<typeof createStateDatabase>>;
let target: Awaited<ReturnType<typeof createTargetDatabase>>;
let prefix: string;
let t: TestGateway;
let alice: { id: string; apiKey: string };
let dana: { id: string; apiKey: string };

const SHORT = { REVIEW_TIMEOUT_SEC: '2' };
// Queue prefixes of the extra gateways here (stand-ins for other processes), removed at the end.
const prefixes: string[] = [];
function newPrefix(name: string): string {
  const p = uniqueName(name);
  prefixes.push(p);
  return p;
}

beforeAll(async () => {
  slack = await startFakeSlack();
  state = await createStateDatabase();
  target = await createTargetDatabase();
  prefix = uniqueName('exp');
  // No periodic sweep here: recovery must come from the start-up sweep of a new process.
  t = await startTestGateway({ env: SHORT, databaseUrl: state.url, prefix, fakeSlack: slack, sweepIntervalMs: 600_000 });
  alice = await t.createUser('alice@example.com', ['developers']);
  dana = await t.createUser('dana@example.com', ['dba-team']);
  await t.api('POST', '/api/connections', { body: { name: 'prod-db', url: target.url, reviewers: ['dba-team'], reviewMode: 'all' } });
  slack.users.set('UALICE', { email: 'alice@example.com' });
  slack.users.set('UDANA', { email: 'dana@example.com' });
  await t.slackPost({ command: '/hoop', text: 'subscribe', user_id: 'UALICE', channel_id: 'C1', team_id: 'T1', response_url: 'https://x.invalid', trigger_id: 't' });
  await t.slackPost({ command: '/hoop', text: 'subscribe', user_id: 'UDANA', channel_id: 'C1', team_id: 'T1', response_url: 'https://x.invalid', trigger_id: 't' });
});

afterAll(async () => {
  await t?.stop();
  await slack?.close();
  await target?.drop();
  await state?.drop();
  for (const p of [prefix, ...prefixes]) await deleteQueues(p);
});

const exec = async (input: string) => (await t.api('POST', '/api/connections/prod-db/exec', { key: alice.apiKey, body: { input } })).body;
const get = async (id: string) => (await t.api('GET', `/api/reviews/${id}`)).body;

describe('a request nobody decides', () => {
  it('expires after REVIEW_TIMEOUT_SEC, never runs, and the waiting caller gets a timeout error', async () => {
    const r = await exec("UPDATE users SET status = 'late' WHERE id = 1");
    expect(new Date(r.expiresAt).getTime() - new Date(r.createdAt).getTime()).toBe(2000);
    const waited = await t.api('GET', `/api/reviews/${r.id}?wait=10`, { key: alice.apiKey });
    expect(waited.status).toBe(408);
    expect(waited.body.error.code).toBe('timeout');
    expect(waited.body.error.message).toContain('Resubmit');
    expect(waited.body.review.status).toBe('EXPIRED');

    const click = await t.slackPost(blockAction('UDANA', 'review.approve', JSON.stringify({ reviewId: r.id, group: 'dba-team' })));
    expect(click.status).toBe(200);
    const eph = await slack.waitFor((calls) => calls.some((c) => c.method === 'chat.postEphemeral' && c.args.text.includes('expired')));
    expect(eph.find((c) => c.method === 'chat.postEphemeral')!.args.text).toContain('resubmit');
    const api = await t.api('PUT', `/api/reviews/${r.id}/approve`, { key: dana.apiKey });
    expect(api.status).toBe(409);
    expect(api.body.error.code).toBe('expired');

    expect((await get(r.id)).startedAt).toBeNull();
    expect(await target.query('SELECT status FROM users WHERE id = 1')).toEqual([{ status: 'active' }]);
    await slack.waitFor((calls) => calls.some((c) => c.method === 'chat.update' && JSON.stringify(c.args.blocks).includes('Expired') && JSON.stringify(c.args.blocks).includes(r.id)));
    const last = slack.callsOf('chat.update').filter((c) => JSON.stringify(c.args.blocks).includes(r.id)).at(-1)!;
    expect(JSON.stringify(last.args.blocks)).not.toContain('review.approve');
    await slack.waitFor((calls) => calls.some((c) => c.method === 'chat.postMessage' && c.args.channel === 'UALICE' && JSON.stringify(c.args.blocks).includes('not executed')));
  });
});

describe('recovery at start-up', () => {
  it('expires an overdue request whose expiry job was lost when Redis was flushed', async () => {
    // An hour's timeout: only the moved clock below makes it overdue (no other process expires it).
    const api = await startTestGateway({ env: { REVIEW_TIMEOUT_SEC: '3600' }, databaseUrl: state.url, prefix: newPrefix('flushed'), fakeSlack: slack, workers: false });
    let r: any;
    try {
      r = (await api.api('POST', '/api/connections/prod-db/exec', { key: alice.apiKey, body: { input: "UPDATE users SET status = 'lost' WHERE id = 2" } })).body;
      expect(r.status).toBe('PENDING');
      await deleteQueues(api.prefix); // the delayed expiry job is gone
    } finally {
      await api.stop();
    }
    // Overdue with no job left to expire it: the start-up sweep of a new worker does. Its clock
    // stands past the deadline instead of the test sleeping until then.
    const clock = createManualClock(new Date(new Date(r.expiresAt).getTime() + 1));
    const worker = await startTestGateway({ env: SHORT, databaseUrl: state.url, prefix: newPrefix('fresh'), fakeSlack: slack, sweepIntervalMs: 600_000, clock });
    await worker.stop();
    expect((await get(r.id)).status).toBe('EXPIRED');
    expect(await target.query('SELECT status FROM users WHERE id = 2')).toEqual([{ status: 'active' }]);
    const audit = await t.gateway.db.auditEvent.findMany({ where: { reviewId: r.id, action: 'review.expired' } });
    expect(audit).toHaveLength(1);
  });

  it('posts the Slack messages of a pending request whose post job was lost', async () => {
    const api = await startTestGateway({ env: { REVIEW_TIMEOUT_SEC: '3600' }, databaseUrl: state.url, prefix: newPrefix('lostpost'), fakeSlack: slack, workers: false });
    let r: any;
    try {
      r = (await api.api('POST', '/api/connections/prod-db/exec', { key: alice.apiKey, body: { input: "UPDATE users SET status = 'unposted' WHERE id = 2" } })).body;
      await deleteQueues(api.prefix); // the post job is gone before any worker saw it
    } finally {
      await api.stop();
    }
    const posted = () => slack.calls.some((c) => c.method === 'chat.postMessage' && JSON.stringify(c.args.blocks ?? '').includes(r.id));
    expect(posted()).toBe(false);
    const worker = await startTestGateway({ env: SHORT, databaseUrl: state.url, prefix: newPrefix('repost'), fakeSlack: slack, sweepIntervalMs: 600_000 });
    try {
      await slack.waitFor(posted);
      expect((await get(r.id)).status).toBe('PENDING');
    } finally {
      await worker.stop();
    }
    await t.api('PUT', `/api/reviews/${r.id}/reject`, { key: dana.apiKey });
  });

  it('brings Slack messages up to date when the update job of a decision was lost', async () => {
    const r = (await t.api('POST', '/api/connections/prod-db/exec', { key: alice.apiKey, body: { input: "UPDATE users SET status = 'stale' WHERE id = 1" } })).body;
    await slack.waitFor((calls) => calls.some((c) => c.method === 'chat.postMessage' && JSON.stringify(c.args.blocks ?? '').includes(r.id)));
    await eventually(async () => (await t.gateway.db.channelMessage.count({ where: { channel: 'slack', reviewId: r.id, kind: 'request' } })) === 2);
    // Rejected through a process whose queue nobody works: its update job never runs.
    const api = await startTestGateway({ env: { REVIEW_TIMEOUT_SEC: '3600' }, databaseUrl: state.url, prefix: newPrefix('noworker'), fakeSlack: slack, workers: false });
    try {
      expect((await api.api('PUT', `/api/reviews/${r.id}/reject`, { key: dana.apiKey, body: { reason: 'lost update' } })).status).toBe(200);
    } finally {
      await api.stop();
    }
    const updated = () => slack.calls.some((c) => c.method === 'chat.update' && JSON.stringify(c.args.blocks).includes(r.id) && JSON.stringify(c.args.blocks).includes('lost update'));
    expect(updated()).toBe(false);
    const worker = await startTestGateway({ env: SHORT, databaseUrl: state.url, prefix: newPrefix('reconcile'), fakeSlack: slack, sweepIntervalMs: 600_000 });
    try {
      await slack.waitFor(updated);
      await eventually(async () => (await t.gateway.db.channelMessage.findMany({ where: { channel: 'slack', reviewId: r.id, kind: 'request' } })).every((m) => m.state === 'REJECTED-R'));
    } finally {
      await worker.stop();
    }
  });

  it('marks a RUNNING leftover of a stopped process FAILED and never re-runs it', async () => {
    const conn = await t.gateway.db.connection.findUniqueOrThrow({ where: { name: 'prod-db' } });
    const old = new Date(Date.now() - 10 * 60_000);
    const leftover = await t.gateway.db.review.create({
      data: { connectionId: conn.id, requesterId: alice.id, input: "UPDATE users SET status = 'twice' WHERE id = 3", status: 'RUNNING', expiresAt: new Date(Date.now() + 3600_000), decidedAt: old, startedAt: old, heartbeatAt: old },
    });
    const worker = await startTestGateway({ env: SHORT, databaseUrl: state.url, prefix: newPrefix('crash'), fakeSlack: slack, sweepIntervalMs: 600_000 });
    await worker.stop();
    const v = await get(leftover.id);
    expect(v.status).toBe('FAILED');
    expect(v.error).toBe('the gateway stopped during execution; outcome unknown');
    expect(await target.query('SELECT status FROM users WHERE id = 3')).toEqual([{ status: 'active' }]);
  });

  it('runs an approved request whose execution job was lost', async () => {
    const conn = await t.gateway.db.connection.findUniqueOrThrow({ where: { name: 'prod-db' } });
    const old = new Date(Date.now() - 60_000);
    const approved = await t.gateway.db.review.create({
      data: { connectionId: conn.id, requesterId: alice.id, input: 'SELECT 1 AS one', status: 'APPROVED', expiresAt: new Date(Date.now() + 3600_000), decidedAt: old },
    });
    await sleep(300);
    expect((await get(approved.id)).status).toBe('APPROVED');
    const worker = await startTestGateway({ env: SHORT, databaseUrl: state.url, prefix: newPrefix('requeue'), fakeSlack: slack, sweepIntervalMs: 600_000 });
    try {
      const v = await eventually(async () => {
        const x = await get(approved.id);
        return x.status === 'EXECUTED' && x;
      });
      expect(v.commandTags).toEqual(['SELECT 1']);
    } finally {
      await worker.stop();
    }
  });
});

describe('a Slack outage', () => {
  it('delays messages (honouring Retry-After) but neither blocks nor decides the request', async () => {
    const ours = (args: Record<string, any>) => JSON.stringify(args.blocks ?? '').includes('SELECT 2 AS two');
    slack.failNext('chat.postMessage', { status: 429, retryAfter: 1, match: ours }, 1);
    slack.failNext('chat.postMessage', { status: 500, error: 'internal_error', match: ours }, 1);
    const long = await startTestGateway({ databaseUrl: state.url, prefix: newPrefix('outage'), fakeSlack: slack });
    try {
      const r = (await long.api('POST', '/api/connections/prod-db/exec', { key: alice.apiKey, body: { input: 'SELECT 2 AS two' } })).body;
      expect(r.status).toBe('PENDING');
      // Retried after Retry-After, posted, and the request still waits for a person.
      const posted = await slack.waitFor((calls) => calls.filter((c) => c.method === 'chat.postMessage' && JSON.stringify(c.args.blocks ?? '').includes(r.id)).length >= 4, 20_000);
      const mine = posted.filter((c) => c.method === 'chat.postMessage' && JSON.stringify(c.args.blocks ?? '').includes(r.id));
      expect(mine[1].at - mine[0].at).toBeGreaterThanOrEqual(950); // Retry-After: 1
      // Each message is recorded once Slack answered; the last may still be on its way.
      const channels = await eventually(async () => {
        const rows = await long.gateway.db.channelMessage.findMany({ where: { channel: 'slack', reviewId: r.id, kind: 'request' } });
        return rows.length === 2 && rows;
      });
      expect(channels.map((m) => m.target).sort()).toEqual(['C-REVIEWS', 'UDANA']);
      expect((await long.api('GET', `/api/reviews/${r.id}`)).body.status).toBe('PENDING');
    } finally {
      await long.stop();
    }
  });
});
