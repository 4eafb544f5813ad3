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
