// The Webhooks page in Chromium against the real gateway (its own workers deliver, private
// destinations allowed as tests set them): an admin creates an endpoint whose secret is shown
// once, a request's review.created delivery (verified by a Standard Webhooks receiver) appears in
// the delivery log, Replay makes a second attempt; edit, rotate with the 24 h overlap said, delete.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeWebhookReceiver, type FakeWebhookReceiver } from '../fakes/fake-webhook-receiver.js';
import { signIn, startBrowser, type TestBrowser } from '../helpers/browser.js';
import { createTargetDatabase } from '../helpers/databases.js';
import { ADMIN_KEY, eventually, startTestGateway, type TestGateway } from '../helpers/gateway.js';

let gw: TestGateway;
let browser: TestBrowser;
let receiver: FakeWebhookReceiver;
let target: Awaited<ReturnType<typeof createTargetDatabase>>;
let dev: { id: string; apiKey: string };

beforeAll(async () => {
  target = await createTargetDatabase();
  gw = await startTestGateway({ slack: false, env: { WEBHOOK_ALLOW_PRIVATE: 'true' } });
  for (const name of ['prod-db', 'billing']) {
    const res = await gw.api('POST', '/api/connections', { body: { name, url: target.url, reviewers: ['dba-team'], reviewMode: 'all' } });
    expect(res.status).toBe(201);
  }
  dev = await gw.createUser('dev@example.com', ['developers']);
  receiver = await startFakeWebhookReceiver();
  browser = await startBrowser();
});
afterAll(async () => {
  await browser?.close();
  await receiver?.stop();
  await gw?.stop();
  await target?.drop();
});

async function adminPage(path = '/webhooks'): Promise<Page> {
  const { page } = await browser.newPage();
  await signIn(page, gw.baseUrl, ADMIN_KEY, path);
  return page;
}

/** Clicks Refresh in the delivery log until `check` holds (deliveries are made by background jobs). */
async function refreshUntil(page: Page, check: () => Promise<boolean>, what: string): Promise<void> {
  await eventually(
    async () => {
      await page.getByRole('button', { name: 'Refresh' }).click();
      return check();
    },
    15_000,
    what,
  );
}

describe('the Webhooks page, for an admin', () => {
  it('creates an endpoint with its secret shown once; a request is delivered, logged, and replayed', async () => {
    const page = await adminPage();
    await page.getByRole('button', { name: 'New webhook' }).click();
    await page.getByLabel('URL').fill(receiver.url);
    await page.getByLabel('Description').fill('Pager bridge');
    // review.created is checked for a new endpoint; add review.rejected, and limit it to prod-db.
    expect(await page.getByLabel('review.created').isChecked()).toBe(true);
    await page.getByLabel('review.rejected').check();
    await page.getByLabel('prod-db').check();
    await page.getByRole('button', { name: 'Create webhook' }).click();

    const field = page.getByRole('textbox', { name: 'Signing secret' });
    const secret = await field.inputValue();
    expect(secret).toMatch(/^whsec_/);
    expect(await page.getByRole('region', { name: 'Signing secret, shown once' }).textContent()).toContain('you will not see it again');
    receiver.setSecret(secret);
    const [made] = (await gw.api('GET', '/api/webhooks')).body.webhooks;
    expect(made).toMatchObject({ url: receiver.url, description: 'Pager bridge', events: ['review.created', 'review.rejected'], connections: ['prod-db'], enabled: true, lastDelivery: null });

    await page.getByRole('button', { name: 'I have copied it' }).click();
    await page.getByRole('heading', { name: receiver.url }).waitFor();
    expect(await page.content()).not.toContain(secret);
    await page.getByText('No deliveries yet').waitFor();

    // A request on prod-db: the gateway's worker delivers review.created, signed with the secret.
    const submitted = await gw.api('POST', '/api/connections/prod-db/exec', { key: dev.apiKey, body: { input: "UPDATE users SET status = 'x' WHERE id = 1", reason: 'web test' } });
    expect(submitted.status).toBe(201);
    const [first] = await receiver.waitFor(1);
    expect(first.verified).toMatchObject({ type: 'review.created', data: { id: submitted.body.id } });

    const delivery = page.getByRole('listitem', { name: 'review.created delivery' });
    await refreshUntil(page, () => delivery.getByText('Delivered').isVisible(), 'the delivery in the log');
    const attempt1 = delivery.getByRole('row').filter({ has: page.getByRole('cell', { name: '1', exact: true }) });
    expect(await attempt1.getByRole('cell', { name: '200', exact: true }).count()).toBe(1);
    // The list shows the endpoint's newest delivery too.
    await page.reload();
    await page.getByRole('row').filter({ hasText: 'Pager bridge' }).getByText('HTTP 200').waitFor();

    await delivery.getByRole('button', { name: 'Replay review.created delivery' }).click();
    await page.getByRole('status').filter({ hasText: 'Replay of review.created queued' }).waitFor();
    const [, second] = await receiver.waitFor(2);
    expect(second.verified).toMatchObject({ type: 'review.created', data: { id: submitted.body.id } });
    // One message, two attempts: Standard Webhooks keeps the id.
    expect(second.headers['webhook-id']).toBe(first.headers['webhook-id']);
    await refreshUntil(page, async () => (await delivery.getByRole('row').filter({ has: page.getByRole('cell', { name: '2', exact: true }) }).count()) === 1, 'the second attempt in the log');
  });

  it('edits an endpoint, rotates its secret saying the old one lasts 24 h, and deletes it after a confirmation', async () => {
    const made = await gw.api('POST', '/api/webhooks', { body: { url: `${receiver.url}/second`, events: ['review.created'], description: 'to change' } });
    expect(made.status).toBe(201);
    const id = made.body.webhook.id;
    const page = await adminPage(`/webhooks?webhook=${id}`);
    const detail = page.getByRole('region', { name: `${receiver.url}/second` });
    await detail.getByRole('button', { name: 'Edit' }).click();
    await detail.getByLabel('Description').fill('changed');
    await detail.getByLabel('review.executed').check();
    await detail.getByRole('button', { name: 'Save changes' }).click();
    await detail.getByText('review.created, review.executed').waitFor();
    expect((await gw.api('GET', `/api/webhooks/${id}`)).body.webhook).toMatchObject({ description: 'changed', events: ['review.created', 'review.executed'] });

    // A refusal in the gateway's words: an address that is not a URL.
    await detail.getByRole('button', { name: 'Edit' }).click();
    await detail.getByLabel('URL').fill('ftp://example.com/x');
    await detail.getByRole('button', { name: 'Save changes' }).click();
    await detail.getByRole('alert').waitFor();
    expect(await detail.getByRole('alert').textContent()).toMatch(/http/i);
    await detail.getByRole('button', { name: 'Cancel' }).click();

    await detail.getByRole('button', { name: 'Rotate secret' }).click();
    const rotate = page.getByRole('dialog', { name: 'Rotate the signing secret?' });
    expect(await rotate.textContent()).toContain('stays valid for 24 hours');
    await rotate.getByRole('button', { name: 'Rotate secret' }).click();
    const fresh = await page.getByRole('textbox', { name: 'New signing secret' }).inputValue();
    expect(fresh).toMatch(/^whsec_/);
    expect(fresh).not.toBe(made.body.webhook.secret);
    expect(await page.getByRole('region', { name: 'New signing secret, shown once' }).textContent()).toContain('The old secret keeps signing too until');
    await page.getByRole('button', { name: 'I have copied it' }).click();
    await detail.getByText('still signs until').waitFor();

    await detail.getByRole('button', { name: 'Delete' }).click();
    const del = page.getByRole('dialog', { name: 'Delete this webhook?' });
    await del.getByRole('button', { name: 'Delete webhook' }).click();
    await detail.waitFor({ state: 'detached' });
    expect((await gw.api('GET', `/api/webhooks/${id}`)).status).toBe(404);
    // The list refetches after the delete: the row goes (waitFor throws if it stays).
    await page.getByRole('link', { name: `${receiver.url}/second` }).waitFor({ state: 'detached' });
  });
});
