// `GET /api/admin/doctor` where things are missing: Slack off yet listed, Teams listed without a
// URL, connections without review, PUBLIC_URL left at localhost, webhook endpoints (once their
// table exists), admins only; and the Slack checks against a Slack that refuses the token, lacks a
// scope or does not answer (the doctor reports each, it never fails).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createDoctor } from '../../src/notify/doctor.js';
import { createJobSlackClient } from '../../src/notify/slack/slack-jobs.js';
import { manifestScopes, startFakeSlack, type FakeSlack } from '../fakes/fake-slack.js';
import { startFakeTeams, type FakeTeams } from '../fakes/fake-teams.js';
import { createTargetDatabase } from '../helpers/databases.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { doctorChecks, findCheck, upsertConnection, type Check } from '../helpers/doctor-checks.js';

let t: TestGateway;
let teams: FakeTeams;
let target: Awaited<ReturnType<typeof createTargetDatabase>>;

const doctor = () => doctorChecks(t);

/** Plugins as a gateway with other settings accepted them: this one refuses channels it does not serve. */
const setPlugins = (name: string, plugins: string[]) => t.gateway.db.connection.update({ where: { name }, data: { plugins } });

const find = findCheck;

const connection = (name: string, extra: Record<string, unknown> = {}) => upsertConnection(t, target.url, name, extra);

beforeAll(async () => {
  teams = await startFakeTeams();
  target = await createTargetDatabase();
  t = await startTestGateway({ slack: false, workers: false });
  await t.createUser('dana@example.com', ['dba-team']);
});

afterAll(async () => {
  await t?.stop();
  await teams?.close();
  await target?.drop();
});

describe('who may ask', () => {
  it('refuses anyone but an admin: 403 with what to do, 401 without a key', async () => {
    const carol = await t.createUser('carol@example.com', ['dba-team']);
    const res = await t.api('GET', '/api/admin/doctor', { key: carol.apiKey });
    expect(res.status).toBe(403);
    expect(res.body.error).toEqual({ code: 'forbidden', message: expect.stringMatching(/Only an admin can run the doctor.*ask an admin/) });
    expect(JSON.stringify(res.body)).not.toContain('checks');
    expect((await t.api('GET', '/api/admin/doctor', { key: '' })).status).toBe(401);
    expect((await t.api('GET', '/api/admin/doctor', { key: 'hoop_not_a_key_0000000000000' })).status).toBe(401);
  });
});

describe('with no channel configured', () => {
  it('says Slack and Teams are off and warns that reviewers are told nothing', async () => {
    const checks = await doctor();
    expect(find(checks, 'slack', 'configured')).toMatchObject({ status: 'ok', message: expect.stringMatching(/Slack is off \(SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET are not set\); no connection lists it/) });
    expect(find(checks, 'teams', 'configured')).toMatchObject({ status: 'ok', message: expect.stringMatching(/TEAMS_WEBHOOK_URL is not set and no connection lists teams/) });
    expect(find(checks, 'general', 'channels')).toMatchObject({ status: 'warn', fix: expect.stringMatching(/SLACK_BOT_TOKEN.*TEAMS_WEBHOOK_URL/) });
    expect(checks.filter((c) => c.channel === 'webhooks')).toEqual([]);
  });

  it('fails connections that list slack while Slack is off, naming them and both variables', async () => {
    await connection('slack-a');
    await connection('slack-b');
    await setPlugins('slack-a', ['slack']);
    await setPlugins('slack-b', ['slack', 'teams']);
    const c = find(await doctor(), 'slack', 'configured')!;
    expect(c.status).toBe('fail');
    expect(c.message).toMatch(/connections slack-a, slack-b list the slack plugin/);
    expect(c.fix).toMatch(/Set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET .*or drop slack from their plugins: hoop admin create connection slack-a --overwrite --plugin ''/);
    await connection('slack-a', { reviewMode: 'none', plugins: [] });
    await connection('slack-b', { reviewMode: 'none', plugins: [] });
    await setPlugins('slack-a', ['teams']);
    await setPlugins('slack-b', ['teams']);
  });
});

describe('Teams without a URL', () => {
  it('fails each connection that lists teams with no URL of its own and no TEAMS_WEBHOOK_URL', async () => {
    const checks = await doctor();
    for (const name of ['slack-a', 'slack-b']) {
      const c = find(checks, 'teams', `url: ${name}`)!;
      expect(c.status, name).toBe('fail');
      expect(c.message).toMatch(/lists the teams plugin but has no Workflows URL, and TEAMS_WEBHOOK_URL is not set/);
      expect(c.fix).toBe(`hoop admin create connection ${name} --overwrite --teams-webhook-url '<the Workflows HTTP POST URL>', or set TEAMS_WEBHOOK_URL`);
    }
  });

  it('passes one with its own URL, and then warns that PUBLIC_URL is left at localhost', async () => {
    await connection('slack-a', { plugins: ['teams'], reviewMode: 'none', teamsWebhookUrl: teams.urlOf('a') });
    const checks = await doctor();
    expect(find(checks, 'teams', 'url: slack-a')).toBeUndefined();
    expect(find(checks, 'teams', 'delivery: slack-a')).toMatchObject({ status: 'ok', message: expect.stringMatching(/no card has arrived yet/) });
    expect(find(checks, 'general', 'PUBLIC_URL')).toMatchObject({ status: 'warn', message: expect.stringMatching(/PUBLIC_URL is http:\/\/localhost:0 \(the default\)/), fix: expect.stringMatching(/^Set PUBLIC_URL=https:/) });
    expect(find(checks, 'general', 'channels')).toBeUndefined();
    expect(JSON.stringify(checks)).not.toContain(new URL(teams.urlOf('a')).searchParams.get('sig')!);
  });
});

describe('connections whose commands run without review', () => {
  it('warns for no reviewer groups and for review mode none, with the command that adds review', async () => {
    await connection('open-db', { reviewers: [] });
    const checks = await doctor();
    expect(find(checks, 'general', 'review: open-db')).toMatchObject({ status: 'warn', message: expect.stringMatching(/no reviewer groups/), fix: 'hoop admin create connection open-db --overwrite --reviewers dba-team' });
    expect(find(checks, 'general', 'review: slack-b')).toMatchObject({ status: 'warn', message: expect.stringMatching(/review mode "none"/), fix: 'hoop admin create connection slack-b --overwrite --review-mode writes' });
  });
});

describe('webhook endpoints', () => {
  it('fails a disabled endpoint and one missing for a connection, warns a failing one with its last error, and shows only hosts', async () => {
    const db = t.gateway.db;
    const endpoint = (url: string, data: Record<string, unknown>) => db.webhookEndpoint.create({ data: { url, events: ['review.created'], secret: 'whsec_dGVzdHNlY3JldA==', ...data } });
    const disabled = await endpoint('https://pager.example.com/hook/tok-secret-path?key=qs-secret', { description: 'PagerDuty', enabled: false, disabledAt: new Date(), disabledReason: 'failing since 2026-11-29T10:00:00Z for a day', failingSince: new Date('2026-11-29T10:00:00Z') });
    const failing = await endpoint('https://ops.example.com/in', { connections: ['slack-a'], failingSince: new Date('2026-11-30T08:00:00Z') });
    const fine = await endpoint('https://fine.example.com/in', { connections: ['open-db'] });
    let checks = await doctor();
    expect(find(checks, 'webhooks', `endpoint ${disabled.id}`)).toMatchObject({ status: 'fail', message: expect.stringMatching(/\(pager\.example\.com, PagerDuty\) is disabled: failing since .* for a day\. It receives nothing\./), fix: expect.stringContaining(`PATCH /api/webhooks/${disabled.id} {"enabled": true}`) });
    expect(find(checks, 'webhooks', `endpoint ${failing.id}`)).toMatchObject({ status: 'warn', message: expect.stringMatching(/failing since 2026-11-30T08:00:00\.000Z\. It is disabled after a day/) });
    expect(find(checks, 'webhooks', `endpoint ${fine.id}`)?.status).toBe('ok');
    expect(JSON.stringify(checks)).not.toMatch(/tok-secret-path|qs-secret|whsec_/);

    await connection('hooked-db', { plugins: ['webhooks'] });
    expect(find(await doctor(), 'webhooks', 'endpoints: hooked-db')).toMatchObject({ status: 'fail', fix: expect.stringMatching(/hoop admin create webhook --url https:\/\/\.\.\. --event review\.created --connection hooked-db/) });

    const delivery = (endpointId: string, status: string, lastStatusCode: number | null, lastError: string, agoMs: number) =>
      db.webhookDelivery.create({ data: { endpointId, event: 'review.created', payload: {}, status, lastStatusCode, lastError, updatedAt: new Date(Date.now() - agoMs) } });
    await delivery(disabled.id, 'failed', 500, 'old failure', 3600_000);
    await delivery(disabled.id, 'gave_up', 502, 'Bad Gateway from the receiver', 0);
    await delivery(failing.id, 'failed', null, 'connect ECONNREFUSED', 0);
    checks = await doctor();
    expect(find(checks, 'webhooks', `endpoint ${disabled.id}`)!.message).toMatch(/; last error: HTTP 502: Bad Gateway from the receiver\. It receives nothing\./);
    expect(find(checks, 'webhooks', `endpoint ${failing.id}`)!.message).toMatch(/; last error: connect ECONNREFUSED\./);
  });
});

describe('the Slack checks, against a Slack that says no or nothing', () => {
  let slack: FakeSlack;
  const doctorWith = (env: Record<string, string> = {}, timeoutMs = 2000) => {
    const config = loadConfig({ ...t.env, SLACK_BOT_TOKEN: 'xoxb-test', SLACK_SIGNING_SECRET: 'secret-0123456789', SLACK_API_URL: slack.url, SLACK_CHANNEL: 'CREV', ...env });
    return createDoctor({ config, db: t.gateway.db, slackClient: createJobSlackClient(config.slack!.botToken, slack.url, timeoutMs) });
  };
  const slackChecks = async (run: () => Promise<{ checks: Check[] }>) => (await run()).checks.filter((c) => c.channel === 'slack');

  beforeAll(async () => {
    slack = await startFakeSlack();
    slack.channels.set('CREV', { name: 'reviews' });
  });
  afterAll(async () => slack?.close());

  it('fails a token Slack refuses, with where to get the right one, and checks no channel with it', async () => {
    for (const token of ['xoxb-wrong', 'xoxp-a-user-token']) {
      const before = slack.callsOf('conversations.info').length;
      const checks = await slackChecks(doctorWith({ SLACK_BOT_TOKEN: token }));
      expect(find(checks, 'slack', 'auth')).toMatchObject({ status: 'fail', message: 'Slack refused the bot token (invalid_auth): nothing can be posted.', fix: expect.stringMatching(/SLACK_BOT_TOKEN to the Bot User OAuth Token \(xoxb-\.\.\.\).*restart the gateway/) });
      expect(find(checks, 'slack', 'channels')).toMatchObject({ status: 'warn', message: expect.stringMatching(/not checked/) });
      expect(slack.callsOf('conversations.info').length).toBe(before);
    }
    for (const error of ['token_revoked', 'account_inactive']) {
      slack.failNext('auth.test', { error });
      expect(find(await slackChecks(doctorWith()), 'slack', 'auth')).toMatchObject({ status: 'fail', message: `Slack refused the bot token (${error}): nothing can be posted.` });
    }
  });

  it('fails a token of another workspace than SLACK_TEAM_ID', async () => {
    const c = find(await slackChecks(doctorWith({ SLACK_TEAM_ID: 'T999' })), 'slack', 'auth')!;
    expect(c).toMatchObject({ status: 'fail', message: expect.stringMatching(/workspace acme \(T1\), but SLACK_TEAM_ID is T999/), fix: expect.stringMatching(/SLACK_TEAM_ID=T1/) });
  });

  it('reports a Slack that does not answer, an error and a rate limit instead of throwing', async () => {
    slack.failNext('auth.test', { delayMs: 3000 });
    const started = Date.now();
    const silent = find(await slackChecks(doctorWith({}, 300)), 'slack', 'auth')!;
    expect(Date.now() - started).toBeLessThan(2500);
    expect(silent).toMatchObject({ status: 'fail', message: expect.stringMatching(/^Slack did not answer auth\.test/), fix: expect.stringMatching(/reaches Slack/) });
    slack.failNext('auth.test', { status: 500, error: 'internal_error' });
    expect(find(await slackChecks(doctorWith()), 'slack', 'auth')?.status).toBe('fail');
    slack.failNext('conversations.info', { status: 429, retryAfter: 30 });
    expect(find(await slackChecks(doctorWith()), 'slack', 'channel CREV')).toMatchObject({ status: 'warn', message: expect.stringMatching(/Could not check CREV .*ratelimited/) });
    expect(find(await slackChecks(doctorWith()), 'slack', 'channel CREV')?.status).toBe('ok');
  });

  it('fails the channels of an app installed without channels:read, saying which scopes to add', async () => {
    const old = await startFakeSlack({ scopes: manifestScopes().filter((s) => s !== 'channels:read' && s !== 'groups:read') });
    try {
      old.channels.set('CREV', { name: 'reviews' });
      const config = loadConfig({ ...t.env, SLACK_BOT_TOKEN: 'xoxb-test', SLACK_SIGNING_SECRET: 'secret-0123456789', SLACK_API_URL: old.url, SLACK_CHANNEL: 'CREV' });
      const checks = (await createDoctor({ config, db: t.gateway.db })()).checks;
      expect(find(checks, 'slack', 'channel CREV')).toMatchObject({ status: 'fail', message: expect.stringMatching(/missing_scope/), fix: expect.stringMatching(/channels:read and groups:read .*reinstall/) });
    } finally {
      await old.close();
    }
  });
});
