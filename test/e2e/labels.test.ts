// Every control of every page has a name a screen reader can say: each input, select and textarea
// a <label>, aria-label or aria-labelledby; each button and link some words. Checked in Chromium on
// each page as an admin sees it (the most controls), with its dialogs and forms opened.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signIn, startBrowser, type TestBrowser } from '../helpers/browser.js';
import { createTargetDatabase } from '../helpers/databases.js';
import { ADMIN_KEY, startTestGateway, type TestGateway } from '../helpers/gateway.js';

let gw: TestGateway;
let browser: TestBrowser;
let target: Awaited<ReturnType<typeof createTargetDatabase>>;
let reviewId: string;
let userId: string;
let hookId: string;

beforeAll(async () => {
  browser = await startBrowser();
  gw = await startTestGateway({ slack: false });
  target = await createTargetDatabase();
  expect((await gw.api('POST', '/api/connections', { body: { name: 'prod-db', url: target.url, reviewers: ['dba-team', 'admins'], reviewMode: 'all' } })).status).toBe(201);
  const dev = await gw.createUser('dev@example.com', ['developers']);
  userId = dev.id;
  const held = await gw.api('POST', '/api/connections/prod-db/exec', { key: dev.apiKey, body: { input: 'SELECT 1', reason: 'labels' } });
  reviewId = held.body.id;
  const hook = await gw.api('POST', '/api/webhooks', { body: { url: 'https://93.184.216.34/hoop', events: ['review.created'] } });
  hookId = hook.body.webhook.id;
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await gw?.stop();
  await target?.drop();
});

/** Controls on the page without an accessible name, described for the failure message. */
async function unnamed(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const out: string[] = [];
    const visible = (el: Element) => (el as HTMLElement).offsetParent !== null || el.closest('dialog[open]') !== null;
    for (const el of document.querySelectorAll('input, select, textarea, button, a[href], [role="switch"], [role="checkbox"]')) {
      if (!visible(el) || (el as HTMLInputElement).type === 'hidden') continue;
      const aria = el.getAttribute('aria-label')?.trim() || (el.getAttribute('aria-labelledby') ?? '').split(/\s+/).map((id) => document.getElementById(id)?.textContent?.trim() ?? '').join('');
      const labels = (el as HTMLInputElement).labels;
      const fromLabel = labels ? [...labels].map((l) => l.textContent?.trim() ?? '').join('') : '';
      const text = el.matches('button, a') ? el.textContent?.trim() ?? '' : '';
      const title = el.getAttribute('title')?.trim() ?? '';
      if (!aria && !fromLabel && !text && !title) out.push(el.outerHTML.slice(0, 160));
    }
    return out;
  });
}

describe('every control has a name', () => {
  it.each([
    ['/reviews', 'Access Requests'],
    ['/reviews/:review', 'Audit trail'],
    ['/run', 'Run'],
    ['/connections', 'Connections'],
    ['/connections/prod-db', 'Additional Configuration'],
    ['/connections/new', 'Additional Configuration'],
    ['/users', 'Users'],
    ['/users?user=:user', 'dev@example.com'],
    ['/agents', 'Agents'],
    ['/webhooks', 'Webhooks'],
    ['/webhooks?webhook=:hook', '93.184.216.34'],
    ['/analytics', 'Top requesters'],
  ])('on %s', async (path, heading) => {
    const { page } = await browser.newPage();
    await signIn(page, gw.baseUrl, ADMIN_KEY, path.replace(':review', reviewId).replace(':user', userId).replace(':hook', hookId));
    await page.getByRole('heading', { name: heading }).first().waitFor();
    expect(await unnamed(page)).toEqual([]);
    await page.close();
  });
});
