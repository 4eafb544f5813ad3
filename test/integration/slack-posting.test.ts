// A message is posted once, even when two jobs post it at the same moment (the result job and a
// late request post finishing its thread, or a repair by the sweep).
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createJobSlackClient, createSlackJobs } from '../../src/notify/slack/slack-jobs.js';
import { createTargetDatabase } from '../helpers/databases.js';
import { eventually, startTestGateway, type TestGateway } from '../helpers/gateway.js';

let t: TestGateway;
let target: Awaited<ReturnType<typeof createTargetDatabase>>;

beforeAll(async () => {
  target = await createTargetDatabase();
  t = await startTestGateway();
  await t.createUser('dana@example.com', ['dba-team']);
  await t.api('POST', '/api/connections', { body: { name: 'pg', url: target.url, reviewers: ['dba-team'], reviewMode: 'all' } });
});

afterAll(async () => {
  await t?.stop();
  await target?.drop();
});

it('posts a thread reply once when several jobs post it at the same moment', async () => {
  const alice = await t.createUser('alice@example.com', ['developers']);
  const r = (await t.api('POST', '/api/connections/pg/exec', { key: alice.apiKey, body: { input: 'SELECT 1 AS one' } })).body;
  await t.slack.waitFor((calls) => calls.some((c) => c.method === 'chat.postMessage' && JSON.stringify(c.args.blocks ?? '').includes(r.id)));
  // Finished behind the gateway's back, so only the jobs below post its result.
  await t.gateway.db.review.update({ where: { id: r.id }, data: { status: 'EXECUTED', finishedAt: new Date(), output: 'one\n(1 row)' } });
  const jobs = createSlackJobs({
    db: t.gateway.db,
    client: createJobSlackClient('xoxb-test', t.slack.url),
    defaultChannel: 'C-REVIEWS',
    log: pino({ level: 'silent' }),
  });
  const outcomes = await Promise.allSettled(Array.from({ length: 5 }, () => jobs.postResult(r.id)));
  expect(outcomes.some((o) => o.status === 'fulfilled')).toBe(true);
  // The ones that found the post claimed are told to come back later, and then find it done.
  for (const o of outcomes) if (o.status === 'rejected') expect(String(o.reason)).toContain('another job is posting');
  await eventually(async () => (await Promise.allSettled([jobs.postResult(r.id)]))[0].status === 'fulfilled');
  const requests = await t.gateway.db.channelMessage.count({ where: { channel: 'slack', reviewId: r.id, kind: 'request' } });
  const replies = t.slack.calls.filter((c) => c.method === 'chat.postMessage' && c.args.thread_ts && JSON.stringify(c.args).includes(r.id));
  expect(replies).toHaveLength(requests);
  expect(await t.gateway.db.channelMessage.count({ where: { channel: 'slack', reviewId: r.id, kind: 'result' } })).toBe(requests);
});
