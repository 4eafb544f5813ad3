// The built `hoop` binary against a real gateway's API: create, list and delete webhooks, read the
// delivery log and replay a delivery.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeWebhookReceiver, type FakeWebhookReceiver } from '../fakes/fake-webhook-receiver.js';
import { ADMIN_KEY } from '../helpers/gateway.js';
import { startWebhookFixture, type WebhookFixture } from '../helpers/webhook-fixture.js';
import { runHoop } from '../helpers/hoop-cli.js';


let f: WebhookFixture;
let receiver: FakeWebhookReceiver;
let home: string;

const hoop = (args: string[], key = ADMIN_KEY) => runHoop(args, { apiUrl: f.baseUrl, key, home });

beforeAll(async () => {
  home = mkdtempSync(path.join(tmpdir(), 'hoop-cli-webhooks-'));
  f = await startWebhookFixture();
  f.notifier();
  receiver = await startFakeWebhookReceiver();
});

afterAll(async () => {
  await receiver?.stop();
  await f?.stop();
});

describe('hoop admin create webhook / get webhooks / webhook deliveries / webhook replay / delete webhook', () => {
  it('manages an endpoint from the terminal, the secret printed once', async () => {
    const made = await hoop(['admin', 'create', 'webhook', '--url', receiver.url, '--event', 'review.created', '--event', 'review.approved,review.rejected', '--connection', 'prod-db', '--description', 'ops bridge']);
    expect(made.stderr).toBe('');
    expect(made.code).toBe(0);
    const id = /Webhook ([0-9a-f-]{36}) created: review.created, review.approved, review.rejected of prod-db to /.exec(made.stdout)?.[1];
    const secret = /Signing secret \(shown once, store it now in the receiver; it cannot be shown again\): (whsec_\S+)/.exec(made.stdout)?.[1];
    expect(id).toBeDefined();
    expect(secret).toBeDefined();
    receiver.setSecret(secret!);

    const listed = await hoop(['admin', 'get', 'webhooks']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^ID\s+URL\s+EVENTS\s+CONNECTIONS\s+ENABLED\s+DESCRIPTION/);
    expect(listed.stdout).toContain(id);
    expect(listed.stdout).toContain('review.created,review.approved,review.rejected');
    expect(listed.stdout).not.toContain('whsec_');
    const asJson = JSON.parse((await hoop(['admin', 'get', 'webhooks', '-o', 'json'])).stdout);
    expect(asJson).toEqual([expect.objectContaining({ id, connections: ['prod-db'], description: 'ops bridge', enabled: true })]);
    expect(asJson[0].secret).toBeUndefined();

    expect((await hoop(['admin', 'webhook', 'deliveries', id!])).stdout).toContain(`Webhook ${id} has no deliveries yet.`);
    const reviewId = await f.submit('prod-db');
    for (const e of f.driver.notifier.jobsOfNewRequest!({ reviewId, status: 'PENDING', autoApproved: false })) await f.driver.enqueue(e);
    await f.driver.runDue();
    expect(receiver.received.map((r) => r.answered)).toEqual([200]);

    const log = await hoop(['admin', 'webhook', 'deliveries', id!]);
    expect(log.code).toBe(0);
    expect(log.stdout).toMatch(new RegExp(`review.created\\s+${reviewId}\\s+succeeded\\s+1\\s+200`));
    const [delivery] = JSON.parse((await hoop(['admin', 'webhook', 'deliveries', id!, '-o', 'json'])).stdout);
    expect(delivery).toMatchObject({ reviewId, event: 'review.created', status: 'succeeded', attempts: 1 });

    const replayed = await hoop(['admin', 'webhook', 'replay', id!, delivery.id]);
    expect(replayed.code).toBe(0);
    expect(replayed.stdout).toContain(`Delivery ${delivery.id} queued to be sent again`);
    await f.driver.runDue();
    expect(receiver.received).toHaveLength(2);
    expect(receiver.received[1].answered).toBe(200);
    expect(receiver.received[1].headers['webhook-id']).toBe(receiver.received[0].headers['webhook-id']);

    const deleted = await hoop(['admin', 'delete', 'webhook', id!]);
    expect(deleted.code).toBe(0);
    expect(deleted.stdout).toContain(`Webhook ${id} (${receiver.url}) deleted.`);
    expect((await hoop(['admin', 'get', 'webhooks'])).stdout).toContain('No webhooks.');
    const again = await hoop(['admin', 'delete', 'webhook', id!]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain(`No webhook has the id ${id}`);
  });

  it('says what is wrong with bad input, and refuses non-admins', async () => {
    const badEvent = await hoop(['admin', 'create', 'webhook', '--url', receiver.url, '--event', 'review.create']);
    expect(badEvent.code).toBe(2);
    expect(badEvent.stderr).toContain('Unknown event "review.create"; the events are: review.created');
    const badUrl = await hoop(['admin', 'create', 'webhook', '--url', 'ftp://x.example.com/', '--event', 'review.created']);
    expect(badUrl.code).toBe(2);
    expect(badUrl.stderr).toContain('only http and https are supported, not ftp');
    const noEvent = await hoop(['admin', 'create', 'webhook', '--url', receiver.url]);
    expect(noEvent.code).toBe(2);
    expect(noEvent.stderr).toMatch(/required option '--event <event>' not specified/);
    const dev = await hoop(['admin', 'get', 'webhooks'], f.requester.apiKey);
    expect(dev.code).toBe(2);
    expect(dev.stderr).toContain('Only an admin can manage webhooks');
  });
});

describe('hoop admin get webhook / webhook disable / webhook enable / webhook rotate', () => {
  /** A request announced to the webhooks channel, its jobs run. */
  async function announce(): Promise<string> {
    const reviewId = await f.submit('prod-db');
    for (const e of f.driver.notifier.jobsOfNewRequest!({ reviewId, status: 'PENDING', autoApproved: false })) await f.driver.enqueue(e);
    await f.driver.runDue();
    return reviewId;
  }

  it('shows one endpoint with its state, turns it off and on, and rotates its secret printing the new one once', async () => {
    const made = await f.api('POST', '/api/webhooks', { body: { url: receiver.url, events: ['review.created'], description: 'pager' } });
    expect(made.status).toBe(201);
    const id: string = made.body.webhook.id;
    receiver.setSecret(made.body.webhook.secret);
    const before = receiver.received.length;

    const shown = await hoop(['admin', 'get', 'webhook', id]);
    expect(shown.stderr).toBe('');
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(new RegExp(`^id:\\s+${id}$`, 'm'));
    expect(shown.stdout).toMatch(/^events:\s+review\.created$/m);
    expect(shown.stdout).toMatch(/^connections:\s+every connection$/m);
    expect(shown.stdout).toMatch(/^state:\s+enabled$/m);
    expect(shown.stdout).toMatch(/^last delivery:\s+none yet$/m);
    expect(shown.stdout).not.toContain('whsec_');

    const off = await hoop(['admin', 'webhook', 'disable', id]);
    expect(off.code).toBe(0);
    expect(off.stdout).toContain(`Webhook ${id} (${receiver.url}) is disabled: nothing more is sent to it until hoop admin webhook enable ${id}.`);
    expect((await hoop(['admin', 'get', 'webhook', id])).stdout).toMatch(new RegExp(`^state:\\s+disabled since [0-9-]+ [0-9:]+: disabled by .+ \\(hoop admin webhook enable ${id} sends to it again\\)$`, 'm'));
    await announce();
    expect(receiver.received).toHaveLength(before);

    const on = await hoop(['admin', 'webhook', 'enable', id]);
    expect(on.code).toBe(0);
    expect(on.stdout).toContain(`Webhook ${id} (${receiver.url}) is enabled: new events are sent to it.`);
    await announce();
    expect(receiver.received.slice(before).map((r) => r.answered)).toEqual([200]);
    expect((await hoop(['admin', 'get', 'webhook', id])).stdout).toMatch(/^last delivery:\s+review\.created succeeded after 1 attempt, HTTP 200 \(/m);

    const rotated = await hoop(['admin', 'webhook', 'rotate', id]);
    expect(rotated.code).toBe(0);
    const fresh = new RegExp(`New signing secret of webhook ${id} \\(shown once, store it now in the receiver; it cannot be shown again\\): (whsec_\\S+)`).exec(rotated.stdout)?.[1];
    expect(fresh).toBeDefined();
    expect(fresh).not.toBe(made.body.webhook.secret);
    expect(rotated.stdout).toMatch(/The old secret signs too until \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);
    // A receiver switched over to the new secret verifies what is sent next.
    receiver.setSecret(fresh!);
    await announce();
    expect(receiver.received.at(-1)!.answered).toBe(200);
    expect(receiver.received.at(-1)!.refusal).toBeUndefined();
    const asJson = JSON.parse((await hoop(['admin', 'get', 'webhook', id, '-o', 'json'])).stdout);
    expect(asJson).toMatchObject({ id, enabled: true, previousSecretExpiresAt: expect.any(String), lastDelivery: expect.objectContaining({ status: 'succeeded' }) });
    expect(JSON.stringify(asJson)).not.toContain('whsec_');
    expect((await hoop(['admin', 'get', 'webhook', id])).stdout).toMatch(/^secret:\s+rotated; the previous one signs too until /m);
  });

  it('says which id is unknown, and refuses non-admins', async () => {
    for (const args of [['get', 'webhook'], ['webhook', 'enable'], ['webhook', 'disable'], ['webhook', 'rotate']]) {
      const res = await hoop(['admin', ...args, '00000000-0000-4000-8000-000000000000']);
      expect(res.code, args.join(' ')).toBe(2);
      expect(res.stderr).toContain('No webhook has the id 00000000-0000-4000-8000-000000000000. List them with hoop admin get webhooks.');
    }
    const made = await f.api('POST', '/api/webhooks', { body: { url: receiver.url, events: ['review.created'] } });
    const dev = await hoop(['admin', 'webhook', 'rotate', made.body.webhook.id], f.requester.apiKey);
    expect(dev.code).toBe(2);
    expect(dev.stderr).toContain('Only an admin can manage webhooks');
    expect((await f.api('GET', `/api/webhooks/${made.body.webhook.id}`)).body.webhook.previousSecretExpiresAt).toBeNull();
  });
});
