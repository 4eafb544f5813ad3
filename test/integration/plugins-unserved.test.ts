// A connection's plugins may name only channels this gateway serves: a connection set to a channel
// that is not configured would have its requests announced nowhere (Slack silent, reviewers never
// told, the request expiring) with nothing to tell the admin. (Found by the review of issue 10.)
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createDb, type Db } from '../../src/db/client.js';
import { createConfiguredNotifiers } from '../../src/notify/configured.js';
import { createAdminService } from '../../src/service/admin-service.js';
import { createStateDatabase } from '../helpers/databases.js';

let state: Awaited<ReturnType<typeof createStateDatabase>>;
let db: Db;

beforeAll(async () => {
  state = await createStateDatabase();
  db = createDb(state.url, { max: 4 });
});

afterAll(async () => {
  await db?.$disconnect();
  await state?.drop();
});

const admin = { id: '00000000-0000-4000-8000-000000000001', email: 'root@example.com', isAdmin: true, groups: [], slackUserId: null, kind: 'person' as const, owner: null };
const ctx = { actorId: null, actor: 'root@example.com', source: 'api' as const };

/** An admin service on a gateway configured by `env`, as src/gateway.ts builds it. */
function gatewayWith(env: Record<string, string>) {
  const config = loadConfig(env);
  const notifiers = createConfiguredNotifiers({ config, db, log: pino({ level: 'silent' }), clock: { now: () => new Date() }, enqueue: async () => {}, runsJobs: false });
  return { notifiers, admin: createAdminService(db, { channels: { served: notifiers.configured, teamsDefaultUrl: Boolean(config.teamsWebhookUrl) } }) };
}
const SLACK = { SLACK_BOT_TOKEN: 'xoxb-test', SLACK_SIGNING_SECRET: 'x'.repeat(32), SLACK_CHANNEL: 'C123' };
const upsert = (g: ReturnType<typeof gatewayWith>, extra: Record<string, unknown>) =>
  g.admin.upsertConnection(admin, { name: `c-${Math.random().toString(36).slice(2, 8)}`, url: 'postgresql://x@127.0.0.1/x', reviewers: ['dba'], ...extra }, false, ctx);

describe('a connection whose plugins name a channel this gateway does not serve', () => {
  for (const plugins of [['slack'], ['SLACK'], ['slack', 'slack']]) {
    it(`(${plugins.join(', ')}) is refused when Slack is not configured, with what to set`, async () => {
      await expect(upsert(gatewayWith({}), { plugins })).rejects.toThrow(/slack is not configured on this gateway.*set SLACK_BOT_TOKEN/);
    });
  }

  it('teams without a URL anywhere is refused; with the connection\'s own URL or TEAMS_WEBHOOK_URL it is kept', async () => {
    await expect(upsert(gatewayWith(SLACK), { plugins: ['teams'] })).rejects.toThrow(/teams is not configured on this gateway.*set TEAMS_WEBHOOK_URL/);
    expect((await upsert(gatewayWith(SLACK), { plugins: ['teams'], teamsWebhookUrl: 'https://teams.example.com/flow?sig=x' })).connection.plugins).toEqual(['teams']);
    expect((await upsert(gatewayWith({ ...SLACK, TEAMS_WEBHOOK_URL: 'https://teams.example.com/f' }), { plugins: ['teams'] })).connection.plugins).toEqual(['teams']);
  });

  it('whatever it keeps announces the request on some channel', async () => {
    for (const [env, plugins] of [[SLACK, ['slack']], [SLACK, ['webhooks']], [{}, ['webhooks']], [SLACK, []]] as const) {
      const g = gatewayWith(env);
      const saved = (await upsert(g, { plugins: [...plugins] })).connection;
      const jobs = g.notifiers.jobsOfNewRequest(saved.plugins, { reviewId: '00000000-0000-4000-8000-0000000000aa', status: 'PENDING', autoApproved: false });
      expect(jobs.map((j) => j.name), JSON.stringify(plugins)).not.toEqual([]);
    }
  });
});
