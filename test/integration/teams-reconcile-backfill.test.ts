// Review of i10 (the sweep's per-channel repair): the Teams repair re-enqueues every card of the
// last day's requests that has no ChannelMessage row, so it cannot tell a lost job from a card that
// was never due on Teams. Turning Teams on (TEAMS_WEBHOOK_URL set at the upgrade to this version,
// or `--plugin teams` / a teamsWebhookUrl added to a connection) posts, within a minute, a card for
// every event of every request of the last 24 hours: requests long decided and run, shown in a
// channel that was never meant to see them. Slack's repair back-fills only pending requests.
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type Db } from '../../src/db/client.js';
import type { OutboxEntry } from '../../src/db/outbox.js';
import { createTeamsNotifier } from '../../src/notify/teams/teams-notifier.js';
import { createStateDatabase } from '../helpers/databases.js';

let state: Awaited<ReturnType<typeof createStateDatabase>>;
let db: Db;
let requesterId: string;
const log = pino({ level: 'silent' });
const URL_ = 'https://prod-01.westus.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?api-version=1&sig=SECRETSIG';

beforeAll(async () => {
  state = await createStateDatabase();
  db = createDb(state.url, { max: 4 });
  requesterId = (await db.user.create({ data: { email: 'ann@example.com', groups: ['dev'] } })).id;
});

afterAll(async () => {
  await db?.$disconnect();
  await state?.drop();
});

/** A request made 3 hours ago, rejected 2 hours ago: long over before Teams was switched on. */
async function pastRequest(connectionId: string) {
  const hoursAgo = (h: number) => new Date(Date.now() - h * 3600_000);
  return (
    await db.review.create({
      data: {
        connectionId,
        requesterId,
        input: "UPDATE payroll SET salary = 1 WHERE name = 'ceo'",
        status: 'REJECTED',
        createdAt: hoursAgo(3),
        expiresAt: hoursAgo(2),
        decidedAt: hoursAgo(2),
        groups: { create: [{ group: 'dba', status: 'REJECTED', decidedAt: hoursAgo(2) }] },
      },
    })
  ).id;
}

async function repairsOf(reviewId: string, options: { defaultWebhookUrl?: string; byDefault: boolean }) {
  const entries: OutboxEntry[] = [];
  const teams = createTeamsNotifier({ db, publicUrl: 'https://hoop.example.com', log, ...options });
  await teams.reconcile!({ now: new Date(), enqueue: async (e) => void entries.push(e) });
  return entries.filter((e) => e.reviewId === reviewId).map((e) => (e.payload as { event: string }).event);
}

describe('the Teams repair', () => {
  it('posts nothing about requests decided before TEAMS_WEBHOOK_URL was set (the upgrade to this version)', async () => {
    const conn = (await db.connection.create({ data: { name: 'prod-db', url: 'postgresql://x@127.0.0.1/x', reviewers: ['dba'] } })).id;
    const id = await pastRequest(conn);
    // The gateway restarts with TEAMS_WEBHOOK_URL: Teams is now on for connections without plugins.
    expect(await repairsOf(id, { defaultWebhookUrl: URL_, byDefault: true })).toEqual([]);
  });

  it('posts nothing about requests decided before a connection listed teams', async () => {
    const conn = (await db.connection.create({ data: { name: 'billing', url: 'postgresql://x@127.0.0.1/y', reviewers: ['dba'], plugins: ['slack'] } })).id;
    const id = await pastRequest(conn);
    // An admin adds Teams to the connection with its own flow, now.
    await db.connection.update({ where: { id: conn }, data: { plugins: ['slack', 'teams'], teamsWebhookUrl: URL_ } });
    expect(await repairsOf(id, { byDefault: false })).toEqual([]);
  });
});
