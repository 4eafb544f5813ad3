// The Run page in a real Chromium against the real gateway: a read runs at once and shows its
// result; a write waits for approval and its result appears, without a reload, when another user
// approves it through the API; refusals and rejections are shown in the gateway's words.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { createTargetDatabase } from '../helpers/databases.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { signIn, startBrowser } from '../helpers/browser.js';

let t: TestGateway;
let target: Awaited<ReturnType<typeof createTargetDatabase>>;
let browser: Awaited<ReturnType<typeof startBrowser>>;
let alice: { id: string; apiKey: string };
let dana: { id: string; apiKey: string };

beforeAll(async () => {
  // First: it rebuilds dist/web when web/ changed, and the gateway reads dist/web once, at start.
  browser = await startBrowser();
  t = await startTestGateway({ slack: false });
  target = await createTargetDatabase();
  alice = await t.createUser('alice@example.com', ['developers']);
  dana = await t.createUser('dana@example.com', ['dba-team']);
  const made = await t.api('POST', '/api/connections', { body: { name: 'prod-db', url: target.url, reviewers: ['dba-team'], reviewMode: 'writes' } });
  expect(made.status).toBe(201);
  // Restricted to a group alice is not in: not hers to pick.
  expect((await t.api('POST', '/api/connections', { body: { name: 'finance-db', url: target.url, allowedGroups: ['finance'] } })).status).toBe(201);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await t?.stop();
  await target?.drop();
});

/** A page signed in as alice, on /run with prod-db picked. */
async function runPage(): Promise<Page> {
  const { page } = await browser.newPage();
  await signIn(page, t.baseUrl, alice.apiKey);
  await page.goto(`${t.baseUrl}/run`);
  await page.getByLabel('Connection').selectOption('prod-db');
  return page;
}

describe('Run', () => {
  it('offers only the connections the user may use', async () => {
    const { page } = await browser.newPage();
    await signIn(page, t.baseUrl, alice.apiKey, '/run');
    const picker = page.getByLabel('Connection');
    await picker.locator('option[value="prod-db"]').waitFor({ state: 'attached' });
    const options = await picker.locator('option').allTextContents();
    expect(options).toContain('prod-db');
    expect(options).not.toContain('finance-db');
    await page.close();
  });

  it('runs a read at once and shows the result as psql does', async () => {
    const page = await runPage();
    await page.getByLabel('SQL').fill('SELECT id, email FROM users ORDER BY id');
    await page.getByLabel('Reason').fill('checking emails');
    await page.getByRole('button', { name: 'Run' }).click();
    const result = page.getByLabel('Result', { exact: true });
    await result.waitFor();
    const text = await result.textContent();
    expect(text).toContain('ann@example.com');
    expect(text).toContain('(3 rows)');
    expect(await page.getByRole('heading', { name: /Result/ }).isVisible()).toBe(true);
    await page.close();
  });

  it('holds a write, says whom it waits for, and shows the result once another user approves it', async () => {
    const page = await runPage();
    await page.getByLabel('SQL').fill("UPDATE users SET status = 'locked' WHERE id = 2");
    await page.getByLabel('Reason').fill('ticket 7');
    // Ctrl+Enter in the editor runs it.
    await page.getByLabel('SQL').press('Control+Enter');
    await page.getByRole('heading', { name: /Waiting for approval/ }).waitFor();
    expect(await page.getByText('Waiting on:').textContent()).toContain('dba-team');
    const href = await page.getByRole('link', { name: /^request / }).getAttribute('href');
    const id = /^\/reviews\/([0-9a-f-]{36})$/.exec(href ?? '')?.[1];
    // The link names the request by its id (undefined when the href is not /reviews/<uuid>).
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect((await target.query('SELECT status FROM users WHERE id = 2'))[0].status).toBe('active');

    const approved = await t.api('PUT', `/api/reviews/${id}/approve`, { key: dana.apiKey, body: {} });
    expect(approved.status).toBe(200);
    // No reload: the page hears of the change and shows the outcome.
    await page.getByRole('heading', { name: /Result/ }).waitFor();
    expect(await page.getByText('Rows affected').locator('xpath=following-sibling::dd[1]').textContent()).toBe('1');
    expect(await page.locator('dd.mono').first().textContent()).toContain('UPDATE 1');
    expect((await target.query('SELECT status FROM users WHERE id = 2'))[0].status).toBe('locked');
    await page.close();
  });

  it('never counts a waiting request\'s expiry down past zero ("expires 5 min ago")', async () => {
    const { page } = await browser.newPage();
    // The page's clock only: the gateway's stays put, so the request is still pending there.
    await page.clock.install();
    await signIn(page, t.baseUrl, alice.apiKey, '/run');
    await page.getByLabel('Connection').selectOption('prod-db');
    await page.getByLabel('SQL').fill("UPDATE users SET status = 'x' WHERE id = 1");
    await page.getByRole('button', { name: 'Run' }).click();
    await page.getByRole('heading', { name: /Waiting for approval/ }).waitFor();
    const waiting = page.getByText('Waiting on:');
    expect(await waiting.textContent()).toMatch(/It expires in \d/);
    const id = /\/reviews\/(.+)$/.exec((await page.getByRole('link', { name: /^request / }).getAttribute('href'))!)![1];
    const { expiresAt } = (await t.api('GET', `/api/reviews/${id}`, { key: alice.apiKey })).body;
    await page.clock.fastForward(new Date(expiresAt).getTime() - Date.now() + 5 * 60_000);
    // The countdown re-renders on its next tick: wait for it to leave "in …", then read what it says.
    await page.waitForFunction(() => !/It expires in \d/.test(document.querySelector('.run-state')?.textContent ?? ''), undefined, { timeout: 10_000 });
    const after = await waiting.textContent();
    expect(after).not.toContain('ago');
    expect(after).toContain('It expires now');
    await page.close();
  });

  it('shows a rejection with its reason, in words', async () => {
    const page = await runPage();
    await page.getByLabel('SQL').fill('DELETE FROM users WHERE id = 3');
    await page.getByRole('button', { name: 'Run' }).click();
    const href = await page.getByRole('link', { name: /^request / }).getAttribute('href');
    const rejected = await t.api('PUT', `${href!.replace('/reviews/', '/api/reviews/')}/reject`, { key: dana.apiKey, body: { reason: 'not during the freeze' } });
    expect(rejected.status).toBe(200);
    const status = page.getByText(/^Rejected by dana@example.com/);
    await status.waitFor();
    expect(await status.textContent()).toContain('not during the freeze');
    await page.close();
  });

  it('shows a guardrail refusal in the gateway\'s words, and no request is made', async () => {
    const page = await runPage();
    await page.getByLabel('SQL').fill('DROP TABLE users');
    await page.getByRole('button', { name: 'Run' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toContain('Dropping tables is blocked');
    expect(await page.getByRole('heading', { name: /Waiting for approval/ }).count()).toBe(0);
    await page.close();
  });
});
