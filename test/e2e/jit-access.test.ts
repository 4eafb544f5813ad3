// Just-in-Time access in the web app (issue 13), in a real Chromium against the real gateway: an
// admin lets a connection grant windows (Both) on its page; a user asks for 30 minutes with a reason
// from the Run page; a reviewer approves on the request's page; the requester's page shows it
// granted with a live countdown, and a command runs under it; the reviewer revokes it through the
// confirmation dialog and both pages say who revoked it and when. The list shows it by its title
// and finds it by the granted and ended statuses, as the API does.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { createTargetDatabase } from '../helpers/databases.js';
import { ADMIN_KEY, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { signIn, startBrowser } from '../helpers/browser.js';

let t: TestGateway;
let target: Awaited<ReturnType<typeof createTargetDatabase>>;
let browser: Awaited<ReturnType<typeof startBrowser>>;
let alice: { id: string; apiKey: string };
let dana: { id: string; apiKey: string };
const TITLE = 'Access for 30 minutes to prod-db';

beforeAll(async () => {
  // First: it rebuilds dist/web when web/ changed, and the gateway reads dist/web once, at start.
  browser = await startBrowser();
  t = await startTestGateway({ slack: false });
  target = await createTargetDatabase();
  alice = await t.createUser('alice@example.com', ['developers']);
  dana = await t.createUser('dana@example.com', ['dba-team']);
  expect((await t.api('POST', '/api/connections', { body: { name: 'prod-db', url: target.url, reviewers: ['dba-team'] } })).status).toBe(201);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await t?.stop();
  await target?.drop();
});

async function pageOf(key: string, path: string): Promise<Page> {
  const { page } = await browser.newPage();
  await signIn(page, t.baseUrl, key, path);
  return page;
}

/** The words of the request page's Access fact. */
const accessWords = (page: Page) => page.getByText('Access', { exact: true }).locator('xpath=following-sibling::dd[1]');

describe('Just-in-Time access', () => {
  let id: string;
  let requester: Page;
  let reviewer: Page;

  it('lets an admin set a connection to both, and shows the gateway\'s refusal of a bad longest window', async () => {
    const page = await pageOf(ADMIN_KEY, '/connections/prod-db');
    const both = page.getByRole('radio', { name: 'Both' });
    await both.waitFor();
    expect(await page.getByRole('radio', { name: 'Each command' }).isChecked()).toBe(true);
    await both.check();
    const longest = page.getByLabel('Longest access window');
    await longest.fill('forever');
    await page.getByRole('button', { name: 'Save' }).click();
    expect(await page.getByRole('alert').textContent()).toContain('"maxAccessDuration" must be a duration');
    await longest.fill('2h');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('status').filter({ hasText: 'Connection prod-db saved.' }).waitFor();
    const c = (await t.api('GET', '/api/connections')).body.connections.find((x: { name: string }) => x.name === 'prod-db');
    expect(c).toMatchObject({ accessMode: 'both', maxAccessSec: 7200, jitAgents: false });
    await page.close();
  });

  it('lets a user ask for 30 minutes with a reason from the Run page, and opens the request', async () => {
    requester = await pageOf(alice.apiKey, '/run?connection=prod-db');
    const form = requester.getByRole('form', { name: 'Ask for access' });
    // Offered up to the connection's longest window (2 hours), no more.
    const options = form.getByLabel('Duration').locator('option');
    await options.first().waitFor({ state: 'attached' });
    expect(await options.allTextContents()).toEqual(['15 minutes', '30 minutes', '1 hour', '2 hours', 'Other…']);
    // The reason is required, here as in the API.
    await form.getByRole('button', { name: 'Ask for access' }).click();
    expect(await form.getByRole('alert').textContent()).toContain('Say why you need access');
    await form.getByLabel('Duration').selectOption({ label: '30 minutes' });
    await form.getByLabel('Reason for access').fill('INC-42: debugging slow checkouts');
    await form.getByRole('button', { name: 'Ask for access' }).click();
    await requester.getByRole('heading', { name: TITLE }).waitFor();
    id = /\/reviews\/([0-9a-f-]{36})$/.exec(requester.url())![1];
    expect(await accessWords(requester).textContent()).toContain('Pending');
    // An access request has no command to show.
    expect(await requester.getByRole('heading', { name: 'Command' }).count()).toBe(0);
  });

  it('is approved by a reviewer on its page; the requester\'s page shows it granted, counting down', async () => {
    reviewer = await pageOf(dana.apiKey, `/reviews/${id}`);
    await reviewer.getByRole('heading', { name: TITLE }).waitFor();
    await reviewer.getByRole('button', { name: 'Approve' }).click();
    await reviewer.getByText(/^Granted until/).waitFor();

    // The requester's page hears of it without a reload.
    const words = requester.getByText(/^Granted until/);
    await words.waitFor();
    const first = await words.textContent();
    expect(first).toMatch(/^Granted until \d{1,2}:\d{2}.*\((29 min \d+ s|30 min 0 s) left\)$/);
    await requester.waitForFunction((before) => document.querySelector('.countdown')?.textContent !== before, (await requester.locator('.countdown').textContent())!);
    const stored = (await t.api('GET', `/api/reviews/${id}`, { key: alice.apiKey })).body;
    expect(stored).toMatchObject({ status: 'GRANTED', access: { durationSec: 1800, open: true } });
    // The requester may close their own window; a reviewer sees Revoke access too.
    expect(await reviewer.getByRole('button', { name: 'Revoke access' }).count()).toBe(1);
  });

  it('runs the requester\'s write without a per-command review, linked to its window', async () => {
    const ran = await t.api('POST', '/api/connections/prod-db/exec', { key: alice.apiKey, body: { input: "UPDATE users SET status = 'jit' WHERE id = 1", reason: 'INC-42' } });
    expect(ran.body).toMatchObject({ status: 'EXECUTED', grantId: id });
    await requester.goto(`${t.baseUrl}/reviews/${ran.body.id}`);
    await requester.getByRole('note').filter({ hasText: 'Ran under access window' }).getByRole('link').click();
    await requester.getByRole('heading', { name: TITLE }).waitFor();
    await requester.getByText(/^Granted until/).waitFor();
  });

  it('is listed by its title, under Granted in the status filter as in the API', async () => {
    const api = await t.api('GET', '/api/reviews?status=granted', { key: dana.apiKey });
    expect(api.status).toBe(200);
    expect(api.body.reviews.map((r: { id: string }) => r.id)).toEqual([id]);
    const exported = await t.api('GET', '/api/reviews/export?status=granted', { key: dana.apiKey });
    expect(exported.status).toBe(200);
    // JSON lines: the helper parses a body of one line as JSON, and leaves several as text.
    const rows = typeof exported.body === 'string' ? exported.body.trim().split('\n').map((l: string) => JSON.parse(l)) : [exported.body];
    expect(rows.map((r: { id: string }) => r.id)).toEqual([id]);
    await reviewer.getByRole('link', { name: '← Access Requests' }).click();
    await reviewer.getByLabel('Status').selectOption({ label: 'Granted (access open)' });
    expect(reviewer.url()).toContain('status=granted');
    const row = reviewer.getByRole('row', { name: new RegExp(TITLE) });
    expect(await row.getByRole('cell').last().textContent()).toMatch(/^access \d+ min \d+ s$/);
    await reviewer.getByRole('link', { name: TITLE }).click();
    await reviewer.getByRole('heading', { name: TITLE }).waitFor();
  });

  it('tells a user of a connection that grants only windows that commands need one, and offers the form', async () => {
    expect((await t.api('POST', '/api/connections', { body: { name: 'jit-db', url: target.url, reviewers: ['dba-team'], accessMode: 'jit', maxAccessDuration: '45m' } })).status).toBe(201);
    const page = await pageOf(alice.apiKey, '/run?connection=jit-db');
    await page.getByRole('note').filter({ hasText: 'jit-db takes access requests, not per-command reviews' }).waitFor();
    const form = page.getByRole('form', { name: 'Ask for access' });
    expect(await form.getByLabel('Duration').locator('option').allTextContents()).toEqual(['15 minutes', '30 minutes', '45 minutes', 'Other…']);
    // Free text over the longest window: the gateway's words, in an alert.
    await form.getByLabel('Duration').selectOption({ label: 'Other…' });
    await form.getByLabel('How long').fill('2h');
    await form.getByLabel('Reason for access').fill('INC-43');
    await form.getByRole('button', { name: 'Ask for access' }).click();
    expect(await form.getByRole('alert').textContent()).toContain('jit-db grants access for at most 45 minutes');
    // A write without a window is refused in the gateway's words.
    await page.getByLabel('SQL').fill("UPDATE users SET status = 'x' WHERE id = 2");
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    expect(await page.getByRole('form', { name: 'Run a command' }).getByRole('alert').textContent()).toContain('no open access window there');
    await page.close();
  });

  it('is revoked by the reviewer through the confirmation dialog; both pages say by whom and when', async () => {
    await reviewer.getByRole('button', { name: 'Revoke access' }).click();
    const dialog = reviewer.getByRole('dialog', { name: 'Revoke this access?' });
    expect(await dialog.textContent()).toContain("alice@example.com's access to prod-db ends now");
    await dialog.getByRole('button', { name: 'Revoke access' }).click();
    await reviewer.getByText(/^Revoked by dana@example\.com at \d{1,2}:\d{2}/).waitFor();
    expect(await dialog.isVisible()).toBe(false);
    expect(await reviewer.getByRole('button', { name: 'Revoke access' }).count()).toBe(0);
    await requester.getByText(/^Revoked by dana@example\.com at/).waitFor();

    // Closed at once: the next write waits for a review again; the list finds it as ended.
    const held = await t.api('POST', '/api/connections/prod-db/exec', { key: alice.apiKey, body: { input: "UPDATE users SET status = 'late' WHERE id = 1", reason: 'INC-42' } });
    expect(held.body).toMatchObject({ status: 'PENDING', grantId: null });
    const ended = await t.api('GET', '/api/reviews?status=ended', { key: dana.apiKey });
    expect(ended.body.reviews.map((r: { id: string }) => r.id)).toEqual([id]);
    await requester.close();
    await reviewer.close();
  });
});
