// Review of i10 (connections get plugins): `webhooks` is accepted as a plugin (API, CLI, the
// migration's CHECK) but no notifier serves it on this gateway. A connection set to
// `--plugin webhooks` (as `hoop admin create connection --help` offers) is then announced on no
// channel at all: Slack, which was on, goes silent, reviewers never hear of a request, and it
// expires. Nothing tells the admin. A plugin must be refused unless this gateway serves it, or
// the connection must keep a channel that does.
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

const admin = { id: '00000000-0000-4000-8000-000000000001', email: 'root@example.com', isAdmin: true, groups: [], slackUserId: null };
const ctx = { actorId: null, actor: 'root@example.com', source: 'api' as const };

describe('a connection whose plugins name only channels this gateway does not serve', () => {
  for (const plugins of [['webhooks'], ['WEBHOOKS'], ['webhooks', 'webhooks']]) {
    it(`(${plugins.join(', ')}) is refused, or still announced on some channel`, async () => {
      // A gateway with Slack configured, as most are.
      const config = loadConfig({ SLACK_BOT_TOKEN: 'xoxb-test', SLACK_SIGNING_SECRET: 'x'.repeat(32), SLACK_CHANNEL: 'C123' });
      const notifiers = createConfiguredNotifiers({ config, db, log: pino({ level: 'silent' }), runsJobs: false });
      const name = `c-${Math.random().toString(36).slice(2, 8)}`;
      let saved: { plugins: string[] } | null = null;
      try {
        saved = (await createAdminService(db).upsertConnection(admin, { name, url: 'postgresql://x@127.0.0.1/x', reviewers: ['dba'], plugins }, false, ctx)).connection;
      } catch (error) {
        expect((error as Error).message).toMatch(/webhooks/);
      }
      if (saved) {
        const jobs = notifiers.jobsOfNewRequest(saved.plugins, { reviewId: '00000000-0000-4000-8000-0000000000aa', status: 'PENDING', autoApproved: false });
        expect(jobs.map((j) => j.name), `plugins ${JSON.stringify(saved.plugins)} were stored and announce the request nowhere`).not.toEqual([]);
      }
    });
  }
});
