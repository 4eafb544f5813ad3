// The Analytics page in Chromium against the real gateway: its charts (SVG that names itself, with
// the figures as a table), the top requesters and common commands, the filters kept in the URL, and
// no Content Security Policy refusal for the inline SVG.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTargetDatabase } from '../helpers/databases.js';
import { signIn, startBrowser, type TestBrowser } from '../helpers/browser.js';
import { ADMIN_KEY, startTestGateway, type TestGateway } from '../helpers/gateway.js';

let gw: TestGateway;
let browser: TestBrowser;
let target: Awaited<ReturnType<typeof createTargetDatabase>>;
let alice: { id: string; apiKey: string };

beforeAll(async () => {
  gw = await startTestGateway({ slack: false });
  browser = await startBrowser();
  target = await createTargetDatabase();
  alice = await gw.createUser('alice@example.com', ['developers']);
  await gw.createUser('dana@example.com', ['dba-team']);
  for (const name of ['prod-db', 'stage-db']) {
    expect((await gw.api('POST', '/api/connections', { body: { name, url: target.url, reviewers: ['dba-team'], reviewMode: 'all' } })).status).toBe(201);
  }
  // Two requests a reviewer decided yesterday (their pattern is set as they are made), and one pending.
  for (const id of [1, 2]) {
    const res = await gw.api('POST', '/api/connections/prod-db/exec', { key: alice.apiKey, body: { input: `UPDATE accounts SET active = false WHERE id = ${id}` } });
    expect(res.status).toBe(201);
    const created = new Date(Date.now() - 86_400_000);
    await gw.gateway.db.review.update({ where: { id: res.body.id }, data: { status: 'REJECTED', createdAt: created, decidedAt: new Date(created.getTime() + 90_000 * id) } });
    await gw.gateway.db.reviewGroup.updateMany({ where: { reviewId: res.body.id }, data: { status: 'REJECTED', decidedAt: new Date(created.getTime() + 90_000 * id) } });
  }
  expect((await gw.api('POST', '/api/connections/stage-db/exec', { key: alice.apiKey, body: { input: 'DELETE FROM sessions' } })).status).toBe(201);
});

afterAll(async () => {
  await browser?.close();
  await gw?.stop();
  await target?.drop();
});

describe('the Analytics page', () => {
  it('draws its charts with titles and tables, lists requesters and commands, and keeps its filters in the URL', async () => {
    const { page } = await browser.newPage();
    const refused: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') refused.push(m.text());
    });
    await signIn(page, gw.baseUrl, ADMIN_KEY, '/analytics');
    await page.getByRole('heading', { name: 'Analytics', level: 1 }).waitFor();
    await page.getByRole('link', { name: 'Analytics' }).waitFor();

    const groups = page.getByRole('img', { name: /Time to decision by reviewer group/ });
    await groups.waitFor();
    // The chart says its figures in words: dba-team's median of 90 s and 180 s is 2m 15s.
    expect(await groups.getAttribute('aria-labelledby')).toBeTruthy();
    expect(await page.locator('svg desc').first().textContent()).toContain('dba-team: Median 2m 15s');
    expect(await groups.locator('rect').count()).toBeGreaterThan(1);
    await page.getByRole('img', { name: /Outcomes by day/ }).waitFor();

    // The same figures as a table, behind a disclosure.
    const figure = page.getByRole('figure', { name: 'Time to decision by reviewer group' });
    await figure.getByText('Show as a table').click();
    expect(await figure.getByRole('row', { name: /dba-team/ }).textContent()).toContain('2m 15s');

    const requesters = page.getByRole('table', { name: 'Top requesters' });
    expect(await requesters.getByRole('row', { name: /alice@example.com/ }).textContent()).toMatch(/alice@example\.com\s*3\s*0\s*2\s*0%/);
    const commands = page.getByRole('table', { name: 'Most common commands' });
    expect(await commands.getByRole('row').nth(1).textContent()).toMatch(/^2UPDATE accounts SET active = false WHERE id = [12]pg:/);
    expect(await page.getByText('Pending now').locator('..').textContent()).toContain('1');

    await page.getByLabel('Connection', { exact: true }).selectOption('stage-db');
    await page.waitForURL(/connection=stage-db/);
    await page.getByRole('table', { name: 'Most common commands' }).getByText('DELETE FROM sessions').waitFor();
    expect(await page.getByRole('table', { name: 'Top requesters' }).getByRole('row').count()).toBe(2);
    await page.reload();
    expect(await page.getByLabel('Connection', { exact: true }).inputValue()).toBe('stage-db');

    expect(refused.filter((t) => /Content Security Policy|Refused/i.test(t))).toEqual([]);
  });

  it('says what is wrong with a bad range in words', async () => {
    const { page } = await browser.newPage();
    await signIn(page, gw.baseUrl, ADMIN_KEY, '/analytics?from=2026-05-01&to=2026-04-01');
    await page.getByText(/must be before "to"/).waitFor();
  });
});
