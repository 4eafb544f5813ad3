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
  // Four requests reviewers decided yesterday (their pattern is set as they are made): two rejected
  // after 90 s and 180 s, one approved after 300 s whose run failed, one after 630 s that ran; and one
  // pending. Times 90, 180, 300, 630 s: mean 5m 0s, median 4m 0s, p90 8m 51s; approval rate 50%.
  const decided = [
    { id: 1, status: 'REJECTED', group: 'REJECTED', afterSec: 90 },
    { id: 2, status: 'REJECTED', group: 'REJECTED', afterSec: 180 },
    { id: 3, status: 'FAILED', group: 'APPROVED', afterSec: 300 },
    { id: 4, status: 'EXECUTED', group: 'APPROVED', afterSec: 630 },
  ] as const;
  for (const d of decided) {
    const res = await gw.api('POST', '/api/connections/prod-db/exec', { key: alice.apiKey, body: { input: `UPDATE accounts SET active = false WHERE id = ${d.id}` } });
    expect(res.status).toBe(201);
    const created = new Date(Date.now() - 86_400_000);
    const decidedAt = new Date(created.getTime() + d.afterSec * 1000);
    await gw.gateway.db.review.update({ where: { id: res.body.id }, data: { status: d.status, createdAt: created, decidedAt } });
    await gw.gateway.db.reviewGroup.updateMany({ where: { reviewId: res.body.id }, data: { status: d.group, decidedAt } });
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
    // The chart says its figures in words: dba-team's times of 90, 180, 300 and 630 s.
    expect(await groups.getAttribute('aria-labelledby')).toBeTruthy();
    expect(await page.locator('svg desc').first().textContent()).toContain('dba-team: Mean 5m 0s, Median 4m 0s, 90th percentile 8m 51s');
    expect(await groups.locator('rect').count()).toBeGreaterThan(1);
    expect(await page.getByText('Mean time to decision').locator('..').textContent()).toBe('Mean time to decision5m 0s');
    expect(await page.getByText('Median time to decision').locator('..').textContent()).toBe('Median time to decision4m 0s');

    // The same figures as a table, behind a disclosure.
    const figure = page.getByRole('figure', { name: 'Time to decision by reviewer group' });
    await figure.getByText('Show as a table').click();
    expect(await figure.getByRole('row', { name: /dba-team/ }).textContent()).toBe('dba-team5m 0s4m 0s8m 51s');

    // Outcomes over time: every series (the runs beside the decisions) and the approval rate per
    // day, in words and as a table; yesterday holds the four decided requests.
    const outcomes = page.getByRole('img', { name: /Outcomes by day/ });
    await outcomes.waitFor();
    const said = await outcomes.locator('desc').textContent();
    expect(said).toContain('Approved: 2, Automatic: 0, Rejected: 2, Expired: 0, Pending: 1, Executed: 1, Failed: 1.');
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(5, 10);
    expect(said).toContain(`Approval rate by bucket: ${yesterday} 50%.`);
    const outcomesFigure = page.getByRole('figure', { name: 'Outcomes by day (UTC)' });
    await outcomesFigure.getByText('Show as a table').click();
    const header = await outcomesFigure.getByRole('row').first().locator('th').allTextContents();
    expect(header).toEqual(['When', 'Approved', 'Automatic', 'Rejected', 'Expired', 'Pending', 'Executed', 'Failed', 'Approval rate']);
    expect(await outcomesFigure.getByRole('row', { name: new RegExp(`^${yesterday}`) }).locator('td').allTextContents()).toEqual(['2', '0', '2', '0', '0', '1', '1', '50%']);

    const requesters = page.getByRole('table', { name: 'Top requesters' });
    expect(await requesters.getByRole('row', { name: /alice@example.com/ }).textContent()).toMatch(/alice@example\.com\s*5\s*2\s*2\s*50%/);
    const commands = page.getByRole('table', { name: 'Most common commands' });
    expect(await commands.getByRole('row').nth(1).textContent()).toMatch(/^4UPDATE accounts SET active = false WHERE id = [1-4]pg:/);
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
