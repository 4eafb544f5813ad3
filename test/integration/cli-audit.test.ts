// `hoop admin audit verify|head` against a real gateway: exit codes and words, the API's admin-only
// answers, and the head the gateway logs every AUDIT_HEAD_LOG_SEC.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/cli/exit-codes.js';
import { ADMIN_KEY, eventually, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { runHoop } from '../helpers/hoop-cli.js';

let g: TestGateway;
let home: string;
const hoop = (args: string[], key = ADMIN_KEY) => runHoop(args, { apiUrl: g.baseUrl, key, home });
/** What the gateway logged, a JSON object a line. */
const logged: { time: number; msg: string; auditHead?: unknown }[] = [];

beforeAll(async () => {
  home = mkdtempSync(path.join(tmpdir(), 'hoop-cli-audit-'));
  const log = pino({ level: 'info' }, { write: (line: string) => void logged.push(JSON.parse(line)) });
  g = await startTestGateway({ workers: false, env: { AUDIT_HEAD_LOG_SEC: '1' }, log });
});
afterAll(async () => {
  await g?.stop();
});

describe('hoop admin audit', () => {
  it('finds the head it prints in the log, written every AUDIT_HEAD_LOG_SEC (the event count and the hash)', async () => {
    await g.createUser('carol@example.com', ['dev']);
    const printed = /^(\d+) events, head ([0-9a-f]{64})$/.exec((await hoop(['admin', 'audit', 'head'])).stdout.trim());
    expect(printed).not.toBeNull();
    const api = (await g.api('GET', '/api/audit/head')).body;
    expect(api).toMatchObject({ events: Number(printed![1]), hash: printed![2] });
    const since = Date.now();
    const heads = await eventually(async () => {
      const lines = logged.filter((l) => l.auditHead !== undefined && l.time >= since);
      return lines.length >= 3 ? lines.slice(0, 3) : undefined;
    }, 10_000, 'three audit head log lines');
    for (const line of heads) {
      expect(line.msg).toContain('audit chain head');
      expect(line.auditHead).toEqual({ events: api.events, hash: api.hash, id: api.id });
    }
    // One a second (the interval), not one only nor a burst.
    for (let i = 1; i < heads.length; i++) {
      expect(heads[i]!.time - heads[i - 1]!.time).toBeGreaterThanOrEqual(900);
      expect(heads[i]!.time - heads[i - 1]!.time).toBeLessThan(4000);
    }
  }, 20_000);

  it('prints the head, verifies an intact chain with exit 0, and a cut tail with exit 6', async () => {
    const bob = await g.createUser('bob@example.com', ['dev']);
    const head = await hoop(['admin', 'audit', 'head']);
    expect(head.code).toBe(EXIT.ok);
    const m = /^(\d+) events, head ([0-9a-f]{64})$/.exec(head.stdout.trim());
    expect(m).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThan(0);

    const ok = await hoop(['admin', 'audit', 'verify', '--expect-head', m![2]!]);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(EXIT.ok);
    expect(ok.stdout).toContain('✓ The audit chain is intact');

    // A non-admin is refused, in words.
    const refused = await g.api('GET', '/api/audit/verify', { key: bob.apiKey });
    expect(refused.status).toBe(403);
    expect(refused.body.error.message ?? JSON.stringify(refused.body)).toMatch(/Only an admin can check the audit trail/);

    const db = new pg.Client({ connectionString: g.databaseUrl });
    await db.connect();
    try {
      await db.query('ALTER TABLE "AuditEvent" DISABLE TRIGGER ALL');
      await db.query(`DELETE FROM "AuditEvent" WHERE "chainSeq" = (SELECT max("chainSeq") FROM "AuditEvent")`);
      await db.query('ALTER TABLE "AuditEvent" ENABLE TRIGGER ALL');
    } finally {
      await db.end();
    }
    const cut = await hoop(['admin', 'audit', 'verify', '--expect-head', m![2]!]);
    expect(cut.code).toBe(EXIT.auditBroken);
    expect(cut.stdout).toContain('✗ The audit chain is broken');
    expect(cut.stdout).toContain(`truncated: The head you kept (${m![2]}) is not in the chain`);
  });

  it('names a changed event with exit 6, and says what a malformed --expect-head should be with exit 2', async () => {
    const db = new pg.Client({ connectionString: g.databaseUrl });
    await db.connect();
    let id: string;
    try {
      id = (await db.query(`SELECT id::text FROM "AuditEvent" WHERE "chainSeq" = 1`)).rows[0].id;
      await db.query('ALTER TABLE "AuditEvent" DISABLE TRIGGER ALL');
      await db.query(`UPDATE "AuditEvent" SET "actor" = 'mallory' WHERE "chainSeq" = 1`);
      await db.query('ALTER TABLE "AuditEvent" ENABLE TRIGGER ALL');
    } finally {
      await db.end();
    }
    const changed = await hoop(['admin', 'audit', 'verify']);
    expect(changed.code).toBe(EXIT.auditBroken);
    expect(changed.stdout).toContain(`changed: Event id ${id} (chainSeq 1) was changed: its content no longer matches its hash.`);

    const bad = await hoop(['admin', 'audit', 'verify', '--expect-head', 'not-a-hash']);
    expect(bad.code).toBe(EXIT.usage);
    expect(bad.stderr).toMatch(/--expect-head must be a head hash: 64 hex digits/);
  });
});
