// Review findings (i10-review2) on signed webhooks: what leaks where. Each test fails on main as
// of cabd697 and states the rule it expects.
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { beforeAll, describe, expect, it } from 'vitest';
import { startFakeWebhookReceiver } from '../fakes/fake-webhook-receiver.js';
import { useWebhookFixture, type WebhookFixture } from '../helpers/webhook-fixture.js';


const fixture = useWebhookFixture();
const receivers = fixture.receivers;
let f: WebhookFixture;
beforeAll(() => {
  f = fixture.f;
});

/** A pino logger whose lines are kept in `lines`. */
function capturingLogger() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { log: pino({ level: 'debug' }, sink), lines };
}

async function endpointAt(url: (base: string) => string, events: string[], extra: Record<string, unknown> = {}) {
  const receiver = await startFakeWebhookReceiver();
  receivers.push(receiver);
  const res = await f.api('POST', '/api/webhooks', { body: { url: url(receiver.url), events, ...extra } });
  expect(res.status).toBe(201);
  receiver.setSecret(res.body.webhook.secret);
  return { id: res.body.webhook.id as string, receiver };
}

describe('a receiver token in the endpoint URL', () => {
  // The audit trail records the URL with its query redacted ("a query often holds a token"), and the
  // doctor shows the host only; the warning logged when an endpoint is disabled prints it whole.
  it.each([
    ['query', (base: string) => `${base}?token=TOKEN-in-query-7f3a`],
    ['query (several parameters)', (base: string) => `${base}?a=1&access_token=TOKEN-in-query-7f3a`],
  ])('never reaches the log, also when the endpoint is disabled after a day of failures (%s)', async (_kind, url) => {
    const { log, lines } = capturingLogger();
    f.notifier({ log });
    const ep = await endpointAt(url, ['review.created']);
    ep.receiver.failNext(1000, 500);
    await f.submit('prod-db').then((reviewId) => f.driver.enqueue({ name: 'webhooks.dispatch', payload: { reviewId, event: 'review.created' }, jobId: `wh-review.created-${reviewId}` }));
    await f.driver.runDue();
    while (f.driver.waiting.length) await f.driver.runNext();
    const row = await f.t.gateway.db.webhookEndpoint.findUniqueOrThrow({ where: { id: ep.id } });
    expect(row.enabled).toBe(false);
    const logged = lines.join('');
    expect(logged).toContain('webhook endpoint disabled');
    expect(logged).not.toContain('TOKEN-in-query-7f3a');
  });
});

describe('the output of a connection restricted to some groups (allowedGroups)', () => {
  // Slack (slack-jobs.ts) and Teams (withholdOutput) never post such output where others may read
  // it; a webhook endpoint for "every connection" (an ops bridge, a chat relay) receives it whole.
  it('is not sent to an endpoint subscribed to every connection', async () => {
    const target = (await f.t.gateway.db.connection.findUniqueOrThrow({ where: { name: 'prod-db' } })).url;
    const made = await f.t.api('POST', '/api/connections', { body: { name: 'hr-db', url: target, reviewers: ['dba-team'], reviewMode: 'all', allowedGroups: ['developers'] } });
    expect(made.status).toBe(201);
    const reviewer = await f.t.createUser('rev2-reviewer@example.com', ['dba-team']);
    f.notifier();
    const ep = await endpointAt((b) => b, ['review.executed']);
    const sub = await f.t.api('POST', '/api/connections/hr-db/exec', { key: f.requester.apiKey, body: { input: "SELECT 'salary-of-ceo-913' AS secret_value", reason: 'r2' } });
    expect(sub.status).toBe(201);
    const reviewId = sub.body.id as string;
    expect((await f.t.api('PUT', `/api/reviews/${reviewId}/approve`, { key: reviewer.apiKey })).status).toBe(200);
    expect((await f.t.gateway.reviews.executeReview(reviewId))?.ok).toBe(true);
    await f.driver.enqueue({ name: 'webhooks.dispatch', payload: { reviewId, event: 'review.executed' }, jobId: `wh-review.executed-${reviewId}` });
    await f.driver.runDue();
    expect(ep.receiver.received).toHaveLength(1);
    // The command itself is shown as on Slack's channel message; its result is not.
    const data = JSON.parse(ep.receiver.received[0].body).data;
    expect(data).toMatchObject({ status: 'EXECUTED', output: null, error: null, rowsAffected: null, outputWithheld: true });
    expect(JSON.stringify({ ...data, input: '' })).not.toContain('salary-of-ceo-913');
  });
});
