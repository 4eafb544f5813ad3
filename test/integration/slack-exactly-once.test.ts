// Every Slack message of a request exists once, and every one shows the final state, when Slack
// acts but answers after the client's timeout, acts and answers 500, rate-limits with Retry-After,
// or when the row write after chat.postMessage fails (a crash there) and the job's retry races
// the sweep's repair. Each case has its own connection, channel and reviewer, so they run at once.
import { appendFileSync } from 'node:fs';
import pg from 'pg';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { WebClient } from '@slack/web-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slashCommand } from '../fakes/slack-requests.js';
import { createTargetDatabase, REDIS_URL } from '../helpers/databases.js';
import { eventually, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { cleanTally, tallySlack, type SlackTally } from '../helpers/slack-tally.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// The client gives up after 1 s (SLACK_TIMEOUT_MS); a late answer comes after 1.5 s.
const TIMEOUT_MS = 1000;
const LATE_MS = 1500;

let t: TestGateway;
let target: Awaited<ReturnType<typeof createTargetDatabase>>;
let state: pg.Client;
let alice: { id: string; apiKey: string };

/** One case's own connection `pg-N`, channel `C-CASEN` and reviewer `UREVN` (so its DM is DREVN). */
interface Case {
  n: number;
  connection: string;
  channel: string;
  reviewer: string;
  reviewerKey: string;
}

async function makeCase(n: number): Promise<Case> {
  const c = { n, connection: `pg-${n}`, channel: `C-CASE${n}`, reviewer: `UREV${n}` };
  const rev = await t.createUser(`rev${n}@example.com`, [`group-${n}`]);
  await t.api('POST', '/api/connections', { body: { name: c.connection, url: target.url, reviewers: [`group-${n}`], reviewMode: 'all', slackChannel: c.channel } });
  t.slack.users.set(c.reviewer, { email: `rev${n}@example.com` });
  expect((await t.slackPost(slashCommand(c.reviewer, 'subscribe'))).status).toBe(200);
  return { ...c, reviewerKey: rev.apiKey };
}

/** Makes the row write that records a posted message of `kind` on `connection` fail once (a crash between chat.postMessage and it). */
async function failRowWriteOnce(connection: string, kind: string) {
  const seq = `fault_${connection.replace(/\W/g, '_')}_${kind}`;
  await state.query(`CREATE SEQUENCE ${seq}`);
  await state.query(`INSERT INTO test_slack_faults (connection, kind, seq) VALUES ($1, $2, $3)`, [connection, kind, seq]);
}

beforeAll(async () => {
  target = await createTargetDatabase();
  t = await startTestGateway({ env: { SLACK_TIMEOUT_MS: String(TIMEOUT_MS) }, sweepIntervalMs: 500 });
  alice = await t.createUser('alice@example.com', ['developers']);
  t.slack.users.set('UALICE', { email: 'alice@example.com' });
  await t.slackPost(slashCommand('UALICE', 'subscribe'));
  state = new pg.Client({ connectionString: t.databaseUrl });
  await state.connect();
  // The fault: a write that records a message's ts fails once per armed (connection, kind).
  // Sequences are not transactional, so "once" survives the failed statement's rollback.
  await state.query(`
    CREATE TABLE test_slack_faults (connection text, kind text, seq text);
    CREATE FUNCTION test_slack_fault() RETURNS trigger AS $$
    DECLARE f record;
    BEGIN
      IF NEW."messageRef" IS NULL OR (TG_OP = 'UPDATE' AND OLD."messageRef" IS NOT NULL) THEN RETURN NEW; END IF;
      FOR f IN SELECT x.seq FROM test_slack_faults x JOIN "Connection" c ON c.name = x.connection JOIN "Review" r ON r."connectionId" = c.id
               WHERE r.id = NEW."reviewId" AND x.kind = NEW.kind LOOP
        IF nextval(f.seq::regclass) = 1 THEN RAISE EXCEPTION 'injected: the state database failed after Slack answered'; END IF;
      END LOOP;
      RETURN NEW;
    END $$ LANGUAGE plpgsql;
    CREATE TRIGGER test_slack_fault BEFORE INSERT OR UPDATE ON "ChannelMessage" FOR EACH ROW EXECUTE FUNCTION test_slack_fault();
  `);
});

afterAll(async () => {
  await state?.end();
  await t?.stop();
  await target?.drop();
});

type Arm = (c: Case) => Promise<void> | void;

/**
 * Submits a command on the case's connection with `arm`'s faults in place, waits until the first
 * Slack post of the case was attempted, approves, and checks Slack holds exactly one request
 * message per conversation, one reply under each, one requester DM, all in the final state; then
 * waits out the retries and checks again (a late duplicate would show up there).
 */
interface CaseOptions {
  /** Check that the sweep's repair ran for this review too. */
  repairRaces?: boolean;
  /** Waits before the approval (default: until the first channel post was attempted). */
  approveAfter?: (c: Case) => Promise<unknown>;
  /** What Slack must hold in the end (default: one clean run). */
  expected?: (c: Case) => SlackTally;
}

async function runCase(n: number, arm: Arm, opts: CaseOptions = {}) {
  const c = await makeCase(n);
  await arm(c);
  const sub = await t.api('POST', `/api/connections/${c.connection}/exec`, { key: alice.apiKey, body: { input: `SELECT ${n} AS case_no`, reason: `case ${n}` } });
  expect(sub.status).toBe(201);
  const id = sub.body.id as string;
  await (opts.approveAfter?.(c) ?? t.slack.waitFor((calls) => calls.some((x) => x.method === 'chat.postMessage' && x.args.channel === c.channel)));
  expect((await t.api('PUT', `/api/reviews/${id}/approve`, { key: c.reviewerKey })).status).toBe(200);
  await eventually(async () => (await t.api('GET', `/api/reviews/${id}`)).body.status === 'EXECUTED', 10_000, 'the run');
  const faultsMet = async () => {
    if (!t.slack.unusedFailures().every((f) => f.label !== c.connection)) return false;
    const faults = await state.query(`SELECT f.seq FROM test_slack_faults f WHERE f.connection = $1`, [c.connection]);
    for (const f of faults.rows) if (!(await state.query(`SELECT is_called FROM ${f.seq}`)).rows[0].is_called) return false;
    return true;
  };
  await eventually(faultsMet, 10_000).catch(() => {});
  const expected = opts.expected?.(c) ?? cleanTally([c.channel, `D${c.reviewer.slice(1)}`]);
  const tally = () => tallySlack(t.slack, id, 'DALICE', 'Approved and executed');
  for (const deadline = Date.now() + 12_000; Date.now() < deadline && JSON.stringify(tally()) !== JSON.stringify(expected); ) await sleep(50);
  const settled = tally();
  // A retry (BullMQ's backoff is 2 s, then 4 s) or a repair that would post again has run by now.
  await sleep(4500);
  const late = tally();
  if (process.env.SLACK_TALLY_LOG) appendFileSync(process.env.SLACK_TALLY_LOG, `${JSON.stringify({ case: n, settled, late })}\n`);
  expect(settled).toEqual(expected);
  expect(late).toEqual(expected);
  // The faults armed for this case all happened.
  expect(await faultsMet()).toBe(true);
  // Every message Slack holds is recorded, once.
  const rows = await t.gateway.db.channelMessage.findMany({ where: { channel: 'slack', reviewId: id } });
  expect(rows.every((r) => r.status === 'posted')).toBe(true);
  expect(new Set(rows.map((r) => `${r.conversationRef}/${r.messageRef}`)).size).toBe(rows.length);
  expect(rows.filter((r) => r.kind === 'request')).toHaveLength(Object.values(expected.requests).reduce((a, b) => a + b, 0));
  if (opts.repairRaces) {
    // The sweep's repair ran for this review as well as the job's own retry.
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    const queue = new Queue(`${t.prefix}-slack`, { connection: redis });
    const jobs = await queue.getJobs(['completed', 'delayed', 'waiting', 'active', 'failed']);
    await queue.close();
    redis.disconnect();
    expect(jobs.filter((j) => j?.id?.startsWith(`repair-post-${id}`)).length).toBeGreaterThan(0);
  }
}

const toChannel = (c: Case) => (a: Record<string, any>) => a.channel === c.channel && !a.thread_ts;
const toDm = (c: Case) => (a: Record<string, any>) => a.channel === c.reviewer && !a.thread_ts;
const inThread = (c: Case) => (a: Record<string, any>) => a.channel === c.channel && Boolean(a.thread_ts);

describe.concurrent('Slack acts but answers after the client gave up', () => {
  it('posts the channel request message once, adopts it, and updates it', () =>
    runCase(1, (c) => t.slack.failNext('chat.postMessage', { act: true, delayMs: LATE_MS, match: toChannel(c), label: c.connection })));

  it('posts the reviewer DM once, found through the DM conversation', () =>
    runCase(2, (c) => t.slack.failNext('chat.postMessage', { act: true, delayMs: LATE_MS, match: toDm(c), label: c.connection })));

  it('posts a thread reply once, found through conversations.replies', () =>
    runCase(3, (c) => t.slack.failNext('chat.postMessage', { act: true, delayMs: LATE_MS, match: inThread(c), label: c.connection })));

  it('posts the request message once when the search for it times out too', () =>
    runCase(4, (c) => {
      t.slack.failNext('chat.postMessage', { act: true, delayMs: LATE_MS, match: toChannel(c), label: c.connection });
      t.slack.failNext('conversations.history', { act: true, delayMs: LATE_MS, match: (a) => a.channel === c.channel, label: c.connection });
    }));
});

describe.concurrent('Slack acts, then answers 500', () => {
  it('posts the channel request message once', () =>
    runCase(5, (c) => t.slack.failNext('chat.postMessage', { act: true, status: 500, error: 'internal_error', match: toChannel(c), label: c.connection })));

  it('posts a thread reply once', () =>
    runCase(6, (c) => t.slack.failNext('chat.postMessage', { act: true, status: 500, error: 'internal_error', match: inThread(c), label: c.connection })));
});

describe.concurrent('Slack rate-limits with Retry-After', () => {
  it('waits, posts once, and looks for the post again after a 500 even when the search is rate-limited too', async () => {
    await runCase(7, (c) => {
      t.slack.failNext('chat.postMessage', { status: 429, retryAfter: 1, match: toChannel(c), label: c.connection });
      t.slack.failNext('chat.postMessage', { act: true, status: 500, error: 'internal_error', match: toChannel(c), label: c.connection });
      t.slack.failNext('conversations.history', { status: 429, retryAfter: 1, match: (a) => a.channel === c.channel, label: c.connection });
    });
    // Retry-After is honoured by the job's retry and by the sweep's repair alike.
    const posts = t.slack.callsOf('chat.postMessage').filter((x) => x.args.channel === 'C-CASE7' && !x.args.thread_ts);
    const searches = t.slack.callsOf('conversations.history').filter((x) => x.args.channel === 'C-CASE7');
    expect(posts).toHaveLength(2);
    expect(posts[1].at - posts[0].at).toBeGreaterThanOrEqual(950);
    expect(searches.length).toBeGreaterThanOrEqual(2);
    expect(searches[1].at - searches[0].at).toBeGreaterThanOrEqual(950);
  });
});

describe.concurrent('the row write after chat.postMessage fails once (a crash there)', () => {
  it('posts the request message once while the job retry and the sweep repair race', () => runCase(8, (c) => failRowWriteOnce(c.connection, 'request'), { repairRaces: true }));

  it('posts each thread reply once', () => runCase(9, (c) => failRowWriteOnce(c.connection, 'result')));
});

describe.concurrent('Slack acts on a post we gave up on only after we posted it again', () => {
  it('records both messages, updates both to the final state, and answers each in its thread', () =>
    runCase(10, (c) => t.slack.failNext('chat.postMessage', { actAfterMs: 4000, match: toChannel(c), label: c.connection }), {
      // Both exist before anyone decides: the late one is found by the update the approval causes.
      approveAfter: (c) => eventually(async () => t.slack.messages.filter((m) => m.channel === c.channel && !m.thread_ts).length === 2, 10_000, 'the late twin'),
      expected: (c) => ({ requests: { [c.channel]: 2, [`D${c.reviewer.slice(1)}`]: 1 }, replies: { [c.channel]: [1, 1], [`D${c.reviewer.slice(1)}`]: [1] }, requesterDms: 1, notFinal: 0 }),
    }));
});

describe.concurrent('a reviewer unsubscribes while their DM is being posted', () => {
  /** Unsubscribes the case's reviewer the moment their DM reaches Slack. */
  const unsubscribeOnDm = (c: Case) => {
    let done = false;
    t.slack.onCall((call) => {
      if (done || call.method !== 'chat.postMessage' || !toDm(c)(call.args)) return;
      done = true;
      void t.slackPost(slashCommand(c.reviewer, 'unsubscribe'));
    });
  };

  it('adopts the DM Slack posted late and brings it to the final state', () =>
    runCase(11, (c) => {
      unsubscribeOnDm(c);
      t.slack.failNext('chat.postMessage', { act: true, delayMs: LATE_MS, match: toDm(c), label: c.connection });
    }));

  it('sends no DM to them when Slack did not post it', () =>
    runCase(12, (c) => {
      unsubscribeOnDm(c);
      // Slack's refusal (within the client's 1 s) arrives once the unsubscribe had time to land (the retry comes
      // sooner now that jobs run in the process that committed them: on a loaded machine the
      // unsubscribe could still be on its way).
      t.slack.failNext('chat.postMessage', { status: 500, error: 'internal_error', delayMs: 800, match: toDm(c), label: c.connection });
    }, { expected: (c) => ({ ...cleanTally([c.channel]), requests: { [c.channel]: 1 }, replies: { [c.channel]: [1] } }) }));
});

describe('the fake Slack, as strict as Slack', () => {
  it('returns message metadata only with include_all_metadata, refuses malformed metadata and updates of unknown messages', async () => {
    const client = new WebClient('xoxb-test', { slackApiUrl: t.slack.url, retryConfig: { retries: 0 } });
    const metadata = { event_type: 'hoop_review', event_payload: { review_id: 'r-fake', kind: 'request' } };
    const parent = await client.chat.postMessage({ channel: 'C-FAKE', text: 'hello', metadata });
    await client.chat.postMessage({ channel: 'C-FAKE', text: 'reply', thread_ts: parent.ts, metadata: { ...metadata, event_payload: { review_id: 'r-fake', kind: 'result' } } });
    const bare = await client.conversations.history({ channel: 'C-FAKE' });
    expect(bare.messages?.map((m) => m.text)).toEqual(['hello']); // replies are not in the timeline
    expect(bare.messages?.[0].metadata).toBeUndefined();
    const full = await client.conversations.history({ channel: 'C-FAKE', include_all_metadata: true });
    expect(full.messages?.[0].metadata).toEqual(metadata);
    const thread = await client.conversations.replies({ channel: 'C-FAKE', ts: parent.ts!, include_all_metadata: true });
    expect(thread.messages?.map((m) => [m.text, (m.metadata?.event_payload as { kind?: string })?.kind])).toEqual([['hello', 'request'], ['reply', 'result']]);
    expect((await client.conversations.replies({ channel: 'C-FAKE', ts: parent.ts! })).messages?.every((m) => m.metadata === undefined)).toBe(true);
    const later = await client.conversations.history({ channel: 'C-FAKE', oldest: parent.ts });
    expect(later.messages).toEqual([]);
    await expect(client.conversations.replies({ channel: 'C-FAKE', ts: '1.000001' })).rejects.toMatchObject({ data: { error: 'thread_not_found' } });
    await expect(client.chat.update({ channel: 'C-FAKE', ts: '1.000001', text: 'x' })).rejects.toMatchObject({ data: { error: 'message_not_found' } });
    await expect(client.chat.postMessage({ channel: 'C-FAKE', text: 'x', metadata: { event_type: 'bad type!', event_payload: {} } })).rejects.toMatchObject({ data: { error: 'invalid_metadata_format' } });
    // The malformed post above was refused on purpose.
    const i = t.slack.refused.findIndex((r) => r.call.args.channel === 'C-FAKE');
    expect(i).toBeGreaterThanOrEqual(0);
    t.slack.refused.splice(i, 1);
    expect((await client.conversations.open({ users: 'UREV1' })).channel?.id).toBe('DREV1');
  });
});
