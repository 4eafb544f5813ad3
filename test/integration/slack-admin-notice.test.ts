// A notice for the admins (a webhook endpoint disabled) reaches each active admin linked to Slack
// by DM, and nobody else; text from outside cannot become a Slack mention or link.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeSlack, type FakeSlack } from '../fakes/fake-slack.js';
import { createStateDatabase } from '../helpers/databases.js';
import { createDb, type Db } from '../../src/db/client.js';
import { createJobSlackClient } from '../../src/notify/slack/slack-jobs.js';
import { createSlackAdminNotice } from '../../src/notify/slack/slack-admin-notice.js';
import { createNotifierRegistry } from '../../src/notify/registry.js';
import { createSlackNotifier } from '../../src/notify/slack/slack-notifier.js';

let state: Awaited<ReturnType<typeof createStateDatabase>>;
let db: Db;
let slack: FakeSlack;

beforeAll(async () => {
  state = await createStateDatabase();
  db = createDb(state.url, { max: 4 });
  slack = await startFakeSlack();
  const user = (email: string, isAdmin: boolean, active = true, slackId?: string) =>
    db.user.create({ data: { email, isAdmin, active, groups: [], ...(slackId ? { identities: { create: { provider: 'slack', externalId: slackId } } } : {}) } });
  await user('root@example.com', true, true, 'UROOT');
  await user('ops@example.com', true, true, 'UOPS');
  await user('gone@example.com', true, false, 'UGONE');
  await user('dev@example.com', false, true, 'UDEV');
  await user('unlinked-admin@example.com', true);
});

afterAll(async () => {
  await db?.$disconnect();
  await slack?.close();
  await state?.drop();
});

describe('an admin notice', () => {
  it('is planned once per notice on the Slack channel', () => {
    const registry = createNotifierRegistry([createSlackNotifier({ db })]);
    const jobs = registry.jobsOfAdminNotice({ id: 'webhook-disabled-1', text: 'x' });
    expect(jobs.map((j) => [j.name, j.jobId])).toEqual([['slack.notify-admins', 'admins-webhook-disabled-1']]);
  });

  it('is a DM to each active admin linked to Slack, with Slack\'s control sequences escaped', async () => {
    const notify = createSlackAdminNotice({ db, client: createJobSlackClient('xoxb-test', slack.url) });
    const sent = await notify('Webhook endpoint e1 (hooks.example.com) was disabled (last: HTTP 500 <!channel> <https://evil.example|click>)');
    expect(sent).toBe(2);
    const posts = slack.calls.filter((c) => c.method === 'chat.postMessage');
    expect(posts.map((c) => c.args.channel).sort()).toEqual(['UOPS', 'UROOT']);
    for (const p of posts) {
      expect(p.args.text).not.toContain('<!channel>');
      expect(p.args.text).not.toContain('<https://');
      expect(p.args.text).toContain('&lt;!channel&gt;');
    }
  });
});
