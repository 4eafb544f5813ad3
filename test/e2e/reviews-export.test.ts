// The Access Requests page's Export button in Chromium, against the real gateway: it downloads the
// CSV of the current filters with the session cookie (and, with Include output ticked, each
// command's output as stored), and csv-parse reads it back.
import { readFile } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTargetDatabase } from '../helpers/databases.js';
import { eventually, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { signIn, startBrowser, type TestBrowser } from '../helpers/browser.js';

let t: TestGateway;
let target: Awaited<ReturnType<typeof createTargetDatabase>>;
let browser: TestBrowser;
let alice: { id: string; apiKey: string };
let dana: { id: string; apiKey: string };
const ids: string[] = [];
let executed: string;

beforeAll(async () => {
  // First: it rebuilds dist/web when web/ changed, and the gateway reads dist/web once, at start.
  browser = await startBrowser();
  t = await startTestGateway({ slack: false });
  target = await createTargetDatabase();
  alice = await t.createUser('alice@example.com', ['developers']);
  dana = await t.createUser('dana@example.com', ['dba-team']);
  for (const name of ['prod-db', 'billing']) {
    expect((await t.api('POST', '/api/connections', { body: { name, url: target.url, reviewers: ['dba-team'], reviewMode: 'all' } })).status).toBe(201);
  }
  for (const [conn, input] of [['prod-db', "UPDATE users SET note = 'a, \"b\"\nc' WHERE id = 1"], ['billing', 'UPDATE invoices SET paid = true WHERE id = 2']]) {
    const res = await t.api('POST', `/api/connections/${conn}/exec`, { key: alice.apiKey, body: { input, reason: 'OPS-1' } });
    expect(res.status).toBe(201);
    ids.push(res.body.id);
  }
  // One that ran, its output with commas, quotes and a line break.
  const res = await t.api('POST', '/api/connections/billing/exec', { key: alice.apiKey, body: { input: `SELECT 'a, "b"' || chr(10) || 'c' AS note`, reason: 'OPS-2' } });
  expect(res.status).toBe(201);
  executed = res.body.id;
  expect((await t.api('PUT', `/api/reviews/${executed}/approve`, { key: dana.apiKey, body: {} })).status).toBe(200);
  await eventually(async () => (await t.api('GET', `/api/reviews/${executed}`)).body.status === 'EXECUTED', 20_000, 'the approved request executed');
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await t?.stop();
  await target?.drop();
});

describe('Access Requests › Export', () => {
  it("downloads the CSV of the current filters, with the session's visibility", async () => {
    const { page } = await browser.newPage();
    page.setDefaultTimeout(15_000);
    await signIn(page, t.baseUrl, dana.apiKey, '/reviews?connection=prod-db');
    await page.getByRole('heading', { name: 'Access Requests' }).waitFor();
    const link = page.getByRole('link', { name: 'Export' });
    expect(await link.getAttribute('href')).toBe('/api/reviews/export?format=csv&status=pending&connection=prod-db');
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    expect(download.suggestedFilename()).toMatch(/^hoop-reviews-start-\d{8}T\d{6}Z\.csv$/);
    const file = await download.path();
    const [header, ...records]: string[][] = parse(await readFile(file, 'utf8'));
    expect(header.slice(0, 4)).toEqual(['id', 'connection', 'requester', 'status']);
    expect(records.map((r) => r[0])).toEqual([ids[0]]);
    expect(records[0][header.indexOf('input')]).toBe("UPDATE users SET note = 'a, \"b\"\nc' WHERE id = 1");
  });

  it('adds each command\'s output as stored, and whether it was cut, when Include output is ticked', async () => {
    const { page } = await browser.newPage();
    page.setDefaultTimeout(15_000);
    await signIn(page, t.baseUrl, dana.apiKey, '/reviews?status=executed');
    await page.getByRole('heading', { name: 'Access Requests' }).waitFor();
    const link = page.getByRole('link', { name: 'Export' });
    const box = page.getByRole('checkbox', { name: 'Include output' });
    expect(await box.isChecked()).toBe(false);
    expect(await link.getAttribute('href')).toBe('/api/reviews/export?format=csv&status=executed');
    await box.check();
    expect(await link.getAttribute('href')).toBe('/api/reviews/export?format=csv&status=executed&include=output');
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    const [header, ...records]: string[][] = parse(await readFile(await download.path(), 'utf8'));
    expect(header.slice(-2)).toEqual(['output', 'outputTruncated']);
    expect(records.map((r) => r[0])).toEqual([executed]);
    const stored = await t.gateway.db.review.findUniqueOrThrow({ where: { id: executed } });
    expect(stored.output).toMatch(/a, "b"[^]*\n/);
    expect(records[0][header.indexOf('output')]).toBe(stored.output);
    expect(records[0][header.indexOf('outputTruncated')]).toBe('false');
  });
});
