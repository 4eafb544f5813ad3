// GET /api/reviews/export and /api/audit/export against the real gateway and PostgreSQL: filters,
// who sees what, CSV read back by csv-parse, 400s in words, every export audited, a 20,000-event
// export that streams (and stops when the client hangs up), and the CLI writing a file.
import http from 'node:http';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTargetDatabase } from '../helpers/databases.js';
import { ADMIN_KEY, eventually, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { runHoop } from '../helpers/hoop-cli.js';

let t: TestGateway;
let target: Awaited<ReturnType<typeof createTargetDatabase>>;
let state: pg.Client;
let home: string;
let alice: { id: string; apiKey: string };
let carol: { id: string; apiKey: string };
let dana: { id: string; apiKey: string };
let outsider: { id: string; apiKey: string };
const ids: Record<string, string> = {};
/** A command a CSV must carry unharmed: commas, quotes, newlines, unicode, and a leading `=`. */
const TRICKY = `=SELECT 'a, b', "quoted ""x""", 'héllo ✓ 日本'\r\nFROM t\nWHERE note = 'line1\nline2'`;
const BULK = 20_000;

beforeAll(async () => {
  // No background chainer: its UPDATEs of the bulk events would show as queries still reading the audit table.
  t = await startTestGateway({ slack: false, auditChain: false });
  target = await createTargetDatabase();
  state = new pg.Client({ connectionString: t.databaseUrl });
  await state.connect();
  home = await mkdtemp(path.join(tmpdir(), 'hoop-export-'));
  alice = await t.createUser('alice@example.com', ['developers']);
  carol = await t.createUser('carol@example.com', ['developers']);
  dana = await t.createUser('dana@example.com', ['dba-team']);
  outsider = await t.createUser('out@example.com', ['marketing']);
  for (const c of [
    { name: 'prod-db', reviewers: ['dba-team'] },
    { name: 'billing', reviewers: ['dba-team'] },
    { name: 'secret-db', reviewers: ['dba-team'], allowedGroups: ['dba-team'] },
  ]) {
    expect((await t.api('POST', '/api/connections', { body: { ...c, url: target.url, reviewMode: 'all' } })).status).toBe(201);
  }
  const exec = async (name: string, conn: string, key: string, input = `SELECT '${name}'`) => {
    const res = await t.api('POST', `/api/connections/${conn}/exec`, { key, body: { input, reason: `reason of ${name}` } });
    expect(res.status).toBe(201);
    ids[name] = res.body.id;
  };
  await exec('alice-prod', 'prod-db', alice.apiKey, TRICKY);
  await exec('alice-billing', 'billing', alice.apiKey);
  await exec('carol-prod', 'prod-db', carol.apiKey);
  await exec('dana-secret', 'secret-db', dana.apiKey);
  expect((await t.api('PUT', `/api/reviews/${ids['carol-prod']}/reject`, { key: dana.apiKey, body: { reason: 'no, "not now"' } })).status).toBe(200);
  expect((await t.api('PUT', `/api/reviews/${ids['alice-billing']}/approve`, { key: dana.apiKey, body: {} })).status).toBe(200);
  await eventually(async () => (await t.api('GET', `/api/reviews/${ids['alice-billing']}`)).body.status === 'EXECUTED', 20_000, 'alice-billing executed');
}, 120_000);

afterAll(async () => {
  await state?.end();
  await t?.stop();
  await target?.drop();
  if (home) await rm(home, { recursive: true, force: true });
});

/** GET `url` with `key`: status, headers and the body as text. */
async function get(url: string, key = ADMIN_KEY) {
  const res = await fetch(t.baseUrl + url, { headers: { authorization: `Bearer ${key}` } });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

const jsonl = (text: string) => text.split('\n').filter(Boolean).map((l) => JSON.parse(l));
const reviewIds = async (query: string, key?: string) => {
  const res = await get(`/api/reviews/export${query}`, key);
  expect(res.status).toBe(200);
  return jsonl(res.text).map((r) => r.id);
};

describe('GET /api/reviews/export', () => {
  it('streams JSON lines, oldest first, as an attachment, without output unless asked', async () => {
    const res = await get('/api/reviews/export');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-ndjson');
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="hoop-reviews-start-\d{8}T\d{6}Z\.jsonl"$/);
    const rows = jsonl(res.text);
    expect(rows.map((r) => r.id)).toEqual([ids['alice-prod'], ids['alice-billing'], ids['carol-prod'], ids['dana-secret']]);
    const first = rows[0];
    expect(first).toMatchObject({ connection: 'prod-db', requester: 'alice@example.com', status: 'PENDING', reason: 'reason of alice-prod', input: TRICKY, approvals: '0 of 1' });
    expect(first).not.toHaveProperty('output');
    const rejected = rows.find((r) => r.id === ids['carol-prod']);
    expect(rejected.rejectReason).toBe('no, "not now"');
    expect(rejected.decisions).toEqual([expect.objectContaining({ group: 'dba-team', status: 'REJECTED', reviewer: 'dana@example.com' })]);
  });

  it('adds the output as stored with include=output', async () => {
    const rows = jsonl((await get('/api/reviews/export?include=output&status=executed')).text);
    expect(rows.map((r) => r.id)).toEqual([ids['alice-billing']]);
    expect(rows[0].output).toContain('alice-billing');
    expect(rows[0]).toMatchObject({ approvals: '1 of 1', commandTags: ['SELECT 1'], error: null });
  });

  it('filters by connection, requester, status and time', async () => {
    expect(await reviewIds('?connection=prod-db')).toEqual([ids['alice-prod'], ids['carol-prod']]);
    expect(await reviewIds('?requester=Alice@Example.com')).toEqual([ids['alice-prod'], ids['alice-billing']]);
    expect(await reviewIds('?status=rejected')).toEqual([ids['carol-prod']]);
    expect(await reviewIds('?connection=prod-db&status=pending')).toEqual([ids['alice-prod']]);
    expect(await reviewIds('?from=2999-01-01')).toEqual([]);
    expect(await reviewIds('?to=2000-01-01T00:00:00Z')).toEqual([]);
    expect(await reviewIds(`?from=2000-01-01&to=2999-01-01T00:00:00Z`)).toHaveLength(4);
  });

  it('gives each person what GET /api/reviews shows them, and nothing more', async () => {
    for (const [who, key, expected] of [
      ['alice', alice.apiKey, ['alice-prod', 'alice-billing']],
      ['dana', dana.apiKey, ['alice-prod', 'alice-billing', 'carol-prod', 'dana-secret']],
      ['outsider', outsider.apiKey, []],
    ] as const) {
      const exported = await reviewIds('', key);
      expect(exported, who).toEqual(expected.map((n) => ids[n]));
      const listed = (await t.api('GET', '/api/reviews?status=all'.replace('?status=all', ''), { key })).body.reviews.map((r: { id: string }) => r.id);
      expect(new Set(exported), who).toEqual(new Set(listed));
    }
    // A filter naming what they may not see gives nothing, as the list does.
    expect(await reviewIds('?connection=secret-db', alice.apiKey)).toEqual([]);
  });

  it('writes CSV that csv-parse reads back: header, quoted command, decisions in one column', async () => {
    const res = await get('/api/reviews/export?format=csv');
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toMatch(/filename="hoop-reviews-start-\d{8}T\d{6}Z\.csv"/);
    expect(res.text.endsWith('\r\n')).toBe(true);
    const [header, ...records]: string[][] = parse(res.text);
    expect(header).toEqual(['id', 'connection', 'requester', 'status', 'reason', 'input', 'createdAt', 'decidedAt', 'startedAt', 'finishedAt', 'approvals', 'decisions', 'rejectReason', 'rowsAffected', 'commandTags', 'error']);
    const at = (name: string) => header.indexOf(name);
    const tricky = records.find((r) => r[0] === ids['alice-prod'])!;
    // The leading `=` is defused with one apostrophe (see README, "Export").
    expect(tricky[at('input')]).toBe(`'${TRICKY}`);
    const rejected = records.find((r) => r[0] === ids['carol-prod'])!;
    expect(rejected[at('decisions')]).toMatch(/^dba-team: REJECTED by dana@example\.com at \d{4}-\d\d-\d\dT.* \(no, "not now"\)$/);
    expect(rejected[at('rejectReason')]).toBe('no, "not now"');
  });

  it('refuses unknown parameters and bad values with a 400 that says what it accepts', async () => {
    for (const [query, words] of [
      ['?colour=red', 'Unknown query parameter "colour"'],
      ['?format=xml', '"xml" is not a valid value of the query parameter "format"'],
      ['?from=yesterday', '"yesterday" is not a valid value of the query parameter "from"'],
      ['?from=2026-02-30', 'is not a date that exists'],
      ['?from=2026-02-01&to=2026-01-01', 'is not before "to"'],
      ['?status=lost', '"lost" is not a valid value of the query parameter "status"'],
      ['?include=input', 'include'],
      ['?format=csv&format=jsonl', 'was given 2 times'],
    ] as const) {
      const res = await get(`/api/reviews/export${query}`);
      expect(res.status, query).toBe(400);
      expect(JSON.parse(res.text).error.message, query).toContain(words);
    }
  });
});

describe('GET /api/audit/export', () => {
  it('is refused to anyone but an admin', async () => {
    const res = await get('/api/audit/export', dana.apiKey);
    expect(res.status).toBe(403);
    expect(JSON.parse(res.text).error.message).toContain('Only an admin can export the audit trail');
  });

  it('filters by action (repeated or comma-separated), connection, requester and time', async () => {
    const actions = async (q: string) => jsonl((await get(`/api/audit/export${q}`)).text).map((e) => [e.action, e.reviewId]);
    const created = await actions('?action=review.created');
    expect(created.map((e) => e[1])).toEqual([ids['alice-prod'], ids['alice-billing'], ids['carol-prod'], ids['dana-secret']]);
    const both = await actions('?action=review.created&action=review.rejected');
    expect(both).toEqual(await actions('?action=review.created,review.rejected'));
    expect(both.filter((e) => e[0] === 'review.rejected').map((e) => e[1])).toEqual([ids['carol-prod']]);
    // The connection's requests, and events without a request whose detail names it: its creation,
    // and any export filtered on it (the tests above make some).
    const ofProd = await actions('?connection=prod-db');
    expect(new Set(ofProd.filter((e) => e[1]).map((e) => e[1]))).toEqual(new Set([ids['alice-prod'], ids['carol-prod']]));
    const without = ofProd.filter((e) => !e[1]).map((e) => e[0]);
    expect(without).toContain('connection.created');
    expect(without.filter((a) => a !== 'connection.created' && a !== 'reviews.exported')).toEqual([]);
    expect(new Set((await actions('?requester=carol@example.com')).map((e) => e[1]))).toEqual(new Set([ids['carol-prod']]));
    expect(await actions('?from=2999-01-01&action=review.created')).toEqual([]);
  });

  it('writes every column, the detail as JSON text in CSV', async () => {
    const res = await get('/api/audit/export?format=csv&action=review.rejected');
    expect(res.headers.get('content-disposition')).toMatch(/filename="hoop-audit-start-\d{8}T\d{6}Z\.csv"/);
    const [header, ...records]: string[][] = parse(res.text);
    expect(header.slice(0, 10)).toEqual(['id', 'createdAt', 'actor', 'actorId', 'action', 'source', 'reviewId', 'ip', 'userAgent', 'detail']);
    expect(records).toHaveLength(1);
    expect(records[0][header.indexOf('actor')]).toBe('dana@example.com');
    expect(typeof JSON.parse(records[0][header.indexOf('detail')])).toBe('object');
  });

  it('audits each export: who, which filters, the format and the rows', async () => {
    await get('/api/reviews/export?format=csv&connection=prod-db', alice.apiKey);
    const events = await eventually(async () => {
      const r = jsonl((await get('/api/audit/export?action=reviews.exported')).text).filter((e) => e.actor === 'alice@example.com' && e.detail.connection === 'prod-db' && e.detail.format === 'csv');
      return r.length ? r : undefined;
    });
    expect(events[0].detail).toMatchObject({ format: 'csv', connection: 'prod-db', rows: 1, complete: true, status: null });
    expect(events[0].source).toBe('api');
  });
});

describe('a large export', () => {
  beforeAll(async () => {
    // About 2 KB each: 40 MB in all, more than the sockets between us and the gateway hold.
    await state.query(
      `INSERT INTO "AuditEvent" ("actor", "action", "source", "detail", "createdAt")
       SELECT 'bulk@example.com', 'bulk.test', 'system', jsonb_build_object('n', n, 'pad', repeat('x', 2000)), timezone('UTC', now())
       FROM generate_series(1, $1::int) AS n`,
      [BULK],
    );
  }, 60_000);

  const exportsOf = async (marker: string) =>
    (await state.query(`SELECT detail FROM "AuditEvent" WHERE action = 'audit.exported' AND detail->>'requester' = $1`, [marker])).rows.map((r) => r.detail);

  it('streams all 20,000 events in order, each once', async () => {
    const rows = jsonl((await get('/api/audit/export?action=bulk.test')).text);
    expect(rows).toHaveLength(BULK);
    expect(rows.map((r) => r.detail.n)).toEqual(Array.from({ length: BULK }, (_, i) => i + 1));
  }, 60_000);

  it('sends its start before it has read the end, and stops reading when the client hangs up', async () => {
    // requester=… matches none of the bulk events' reviews but their actor, and marks this export's audit event.
    const marker = 'bulk@example.com';
    const req = http.get(`${t.baseUrl}/api/audit/export?action=bulk.test&requester=${marker}`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => req.on('response', resolve).on('error', reject));
    expect(res.statusCode).toBe(200);
    const first = await new Promise<Buffer>((resolve) => res.once('data', resolve));
    res.pause();
    expect(JSON.parse(first.toString().split('\n')[0]).detail.n).toBe(1);
    // The response has begun and the export has not ended: its audit event is written at the end.
    expect(await exportsOf(marker)).toEqual([]);
    req.destroy();
    const [event] = await eventually(async () => {
      const e = await exportsOf(marker);
      return e.length ? e : undefined;
    }, 20_000, 'the cut export audited');
    expect(event.complete).toBe(false);
    expect(event.rows).toBeGreaterThan(0);
    expect(event.rows).toBeLessThan(BULK);
    // Nothing left reading for it: no query on the audit table still runs for the gateway.
    const running = await state.query(`SELECT query FROM pg_stat_activity WHERE datname = current_database() AND state = 'active' AND query LIKE '%AuditEvent%' AND pid <> pg_backend_pid()`);
    expect(running.rows).toEqual([]);
  }, 60_000);
});

describe('the CLI', () => {
  it('writes the audit export to a file with hoop admin audit export -o', async () => {
    const file = path.join(home, 'audit.csv');
    const run = await runHoop(['admin', 'audit', 'export', '--format', 'csv', '--action', 'review.created', '--connection', 'prod-db', '-o', file], { apiUrl: t.baseUrl, key: ADMIN_KEY, home });
    expect(run.stderr).toContain(`bytes to ${file}`);
    expect(run.code).toBe(0);
    const [header, ...records]: string[][] = parse(await readFile(file, 'utf8'));
    expect(header[0]).toBe('id');
    expect(records.map((r) => r[header.indexOf('reviewId')])).toEqual([ids['alice-prod'], ids['carol-prod']]);
    await expect(stat(`${file}.partial`)).rejects.toThrow();
  });

  it('refuses a non-admin in words and leaves no file', async () => {
    const file = path.join(home, 'refused.csv');
    const run = await runHoop(['admin', 'audit', 'export', '-o', file], { apiUrl: t.baseUrl, key: dana.apiKey, home });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('Only an admin can export the audit trail');
    await expect(stat(file)).rejects.toThrow();
    await expect(stat(`${file}.partial`)).rejects.toThrow();
  });

  it('streams the reviews one may see with hoop admin get reviews --export csv', async () => {
    const run = await runHoop(['admin', 'get', 'reviews', '--export', 'csv', '--requester', 'alice@example.com'], { apiUrl: t.baseUrl, key: alice.apiKey, home });
    expect(run.code).toBe(0);
    const [header, ...records]: string[][] = parse(run.stdout);
    expect(records.map((r) => r[0])).toEqual([ids['alice-prod'], ids['alice-billing']]);
    expect(records[0][header.indexOf('input')]).toBe(`'${TRICKY}`);
  });

  it('adds the full output as stored, and whether the gateway cut it, with --include-output', async () => {
    // An output over the gateway's limit (OUTPUT_MAX_BYTES, 256 KiB): stored cut, and exported as stored.
    const res = await t.api('POST', '/api/connections/billing/exec', { key: carol.apiKey, body: { input: "SELECT repeat('x', 300000) AS big", reason: 'a big one' } });
    expect(res.status).toBe(201);
    expect((await t.api('PUT', `/api/reviews/${res.body.id}/approve`, { key: dana.apiKey, body: {} })).status).toBe(200);
    await eventually(async () => (await t.api('GET', `/api/reviews/${res.body.id}`)).body.status === 'EXECUTED', 20_000, 'the big one executed');
    const stored = async (id: string) => (await state.query('SELECT output, "outputTruncated" FROM "Review" WHERE id = $1', [id])).rows[0];

    const csv = await runHoop(['admin', 'get', 'reviews', '--export', 'csv', '--include-output', '--status', 'executed', '--connection', 'billing'], { apiUrl: t.baseUrl, key: ADMIN_KEY, home });
    expect(csv.stderr).toBe('');
    expect(csv.code).toBe(0);
    const [header, ...records]: string[][] = parse(csv.stdout);
    expect(header.slice(-2)).toEqual(['output', 'outputTruncated']);
    expect(records.map((r) => r[0])).toEqual([ids['alice-billing'], res.body.id]);
    const small = await stored(ids['alice-billing']);
    expect(records[0][header.indexOf('output')]).toBe(small.output);
    expect(records[0][header.indexOf('outputTruncated')]).toBe('false');
    const big = await stored(res.body.id);
    expect(big.outputTruncated).toBe(true);
    expect(records[1][header.indexOf('output')]).toBe(big.output);
    expect(records[1][header.indexOf('outputTruncated')]).toBe('true');

    const lines = await runHoop(['admin', 'get', 'reviews', '--export', 'jsonl', '--include-output', '--requester', 'carol@example.com', '--status', 'executed'], { apiUrl: t.baseUrl, key: carol.apiKey, home });
    expect(lines.code).toBe(0);
    expect(jsonl(lines.stdout).map((r) => [r.id, r.output, r.outputTruncated])).toEqual([[res.body.id, big.output, true]]);

    const misplaced = await runHoop(['admin', 'get', 'reviews', '--include-output'], { apiUrl: t.baseUrl, key: ADMIN_KEY, home });
    expect(misplaced.code).toBe(2);
    expect(misplaced.stderr).toContain('--include-output go with --export');
  }, 60_000);
});
