// The audit hash chain on a real PostgreSQL: two processes appending at once leave one chain
// without forks or gaps, and tampering done with the append-only trigger disabled is named.
import { spawn } from 'node:child_process';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { eventHash } from '../../src/core/audit-canonical.js';
import { chainAuditEvents, EVENT_FIELDS, SQL_EVENT_HASH, type EventRow } from '../../src/db/audit-chain.js';
import { verifyAuditChain } from '../../src/db/audit-verify.js';
import { recordAudit, SYSTEM_ACTOR } from '../../src/db/audit.js';
import { createDb, type Db, statePoolOf } from '../../src/db/client.js';
import { createStateDatabase } from '../helpers/databases.js';

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** A fresh database with `n` chained events (web.sign_in, detail { n: i }). */
async function chainOf(n: number): Promise<{ db: Db; pool: pg.Pool; url: string; rows: () => Promise<EventRow[]> }> {
  const state = await createStateDatabase();
  const db = createDb(state.url, { max: 4 });
  cleanups.push(state.drop, () => db.$disconnect());
  for (let i = 1; i <= n; i++) await db.$transaction((tx) => recordAudit(tx, SYSTEM_ACTOR, 'web.sign_in', null, { n: i }));
  const pool = statePoolOf(db);
  await chainAuditEvents(pool);
  const rows = async () => (await pool.query<EventRow>(`SELECT ${EVENT_FIELDS} FROM "AuditEvent" a ORDER BY a."chainSeq" NULLS LAST, a."id"`)).rows;
  return { db, pool, url: state.url, rows };
}

/** Runs `sql` as a superuser would, with every trigger of the table off (and on again after). */
async function tamper(pool: pg.Pool, sql: string, params: unknown[] = []): Promise<void> {
  const c = await pool.connect();
  try {
    await c.query('ALTER TABLE "AuditEvent" DISABLE TRIGGER ALL');
    await c.query(sql, params);
  } finally {
    await c.query('ALTER TABLE "AuditEvent" ENABLE TRIGGER ALL');
    c.release();
  }
}

function child(url: string, transactions: number): Promise<{ written: number }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/audit-writer-child.ts', String(transactions)], { env: { ...process.env, DATABASE_URL: url }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('close', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()!)) : reject(new Error(`writer exited ${code}: ${err}`))));
  });
}

describe('the audit chain', () => {
  describe('when two processes append at once, each running its own chainer', () => {
    it('leaves one chain, chainSeq 1..N without gaps, that verifies', async () => {
      const { pool, url } = await chainOf(0);
      const [a, b] = await Promise.all([child(url, 150), child(url, 150)]);
      const report = await verifyAuditChain(pool);
      const total = a.written + b.written;
      expect(report.problems).toEqual([]);
      expect(report.ok).toBe(true);
      expect(report.events).toBe(total);
      const seqs = await pool.query<{ n: string; min: string; max: string; distinct: string; unchained: string }>(
        `SELECT count(*) AS n, min("chainSeq") AS min, max("chainSeq") AS max, count(DISTINCT "chainSeq") AS distinct, count(*) FILTER (WHERE "chainSeq" IS NULL) AS unchained FROM "AuditEvent"`,
      );
      expect(seqs.rows[0]).toEqual({ n: String(total), min: '1', max: String(total), distinct: String(total), unchained: '0' });
      // Every event links to the one before it.
      const broken = await pool.query(`SELECT a."chainSeq" FROM "AuditEvent" a JOIN "AuditEvent" p ON p."chainSeq" = a."chainSeq" - 1 WHERE a."prevHash" <> p."hash"`);
      expect(broken.rows).toEqual([]);
    }, 60_000);
  });

  describe('hashes the chainer takes in Node and the verifier in PostgreSQL', () => {
    it('are the same bytes for details in any script, with escapes, big and decimal numbers, and nothing', async () => {
      const { db, pool } = await chainOf(0);
      const details = [
        { text: 'naïve café — 日本語 😀 \u0001\u001f', quote: '"\\\n\t</script>' },
        { big: 12345678901234567890, small: 1e-7, neg: -0.5, int: 42, list: [1, 'two', null, true, { nested: { deep: [] } }] },
        { 'key with spaces': 1, é: 2, a: 3, aa: 4, b: 5 },
        null,
      ];
      for (const d of details) await db.$transaction((tx) => recordAudit(tx, { actorId: null, actor: 'ünïcode@example.com', source: 'api', ip: '::1', userAgent: 'ua "quoted"' }, 'web.sign_in', null, d ?? undefined));
      await chainAuditEvents(pool);
      const compared = await pool.query<{ hash: string; sql: string }>(`SELECT a."hash", ${SQL_EVENT_HASH} AS sql FROM "AuditEvent" a ORDER BY a."chainSeq"`);
      expect(compared.rows).toHaveLength(details.length);
      for (const r of compared.rows) expect(r.sql).toBe(r.hash);
      expect((await verifyAuditChain(pool)).ok).toBe(true);
    });
  });

  describe('when replicas connect as different database roles', () => {
    it('never draws the line past a transaction of a role whose backends it cannot read, so no event is later taken for an insert', async () => {
      const { pool, url } = await chainOf(2);
      const suffix = `${process.pid}_${Date.now()}`;
      const writerRole = `hoop_t_writer_${suffix}`;
      const chainerRole = `hoop_t_chainer_${suffix}`;
      for (const role of [writerRole, chainerRole]) {
        await pool.query(`CREATE ROLE ${role} LOGIN`);
        await pool.query(`GRANT SELECT, INSERT, UPDATE ON "AuditEvent" TO ${role}`);
        await pool.query(`GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO ${role}`);
      }
      const as = (role: string) => new pg.Pool({ connectionString: url.replace('postgres@', `${role}@`), max: 2 });
      const writer = as(writerRole);
      const chainer = as(chainerRole);
      const held = await writer.connect();
      try {
        await held.query('BEGIN');
        await held.query(`INSERT INTO "AuditEvent" ("actor", "action", "source") VALUES ('slow@example.com', 'web.sign_in', 'api')`);
        // Another role's backend: this role cannot read its backend_xid.
        await chainAuditEvents(chainer);
        await held.query('COMMIT');
        await chainAuditEvents(chainer);
        const report = await verifyAuditChain(pool);
        expect(report.problems).toEqual([]);
        expect(report.events).toBe(3);
      } finally {
        held.release();
        await writer.end();
        await chainer.end();
        for (const role of [writerRole, chainerRole]) {
          await pool.query(`REVOKE ALL ON "AuditEvent" FROM ${role}`);
          await pool.query(`REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM ${role}`);
          await pool.query(`DROP ROLE ${role}`);
        }
      }
    });
  });

  describe('checked in parts side by side', () => {
    it('names a change at the first event of a part, a removal at a part boundary, and agrees with one part', async () => {
      const { pool, rows } = await chainOf(12);
      expect(await verifyAuditChain(pool, { parts: 3 })).toMatchObject({ ok: true, events: 12 });
      const all = await rows();
      // Parts of 4: 1-4, 5-8, 9-12. The first of the second part changed:
      await tamper(pool, `UPDATE "AuditEvent" SET "actor" = 'mallory' WHERE "chainSeq" = 5`);
      for (const parts of [1, 3, 4]) {
        const report = await verifyAuditChain(pool, { parts });
        expect(report.problems[0]).toMatchObject({ kind: 'changed', id: all[4]!.id, chainSeq: '5' });
        expect(report.events).toBe(4);
      }
      // ...and, further on, the last of the second part removed: the first problem is still named first.
      await tamper(pool, `DELETE FROM "AuditEvent" WHERE "chainSeq" = 8`);
      expect((await verifyAuditChain(pool, { parts: 3 })).problems[0]).toMatchObject({ chainSeq: '5' });
      await tamper(pool, `UPDATE "AuditEvent" SET "actor" = $2 WHERE "chainSeq" = 5 AND "id" = $1`, [all[4]!.id, all[4]!.content.match(/"actor": "([^"]*)"/)![1]]);
      const removed = await verifyAuditChain(pool, { parts: 3 });
      expect(removed.problems[0]).toMatchObject({ kind: 'removed', id: null, chainSeq: '8' });
      expect(removed.events).toBe(7);
    });
  });

  describe('with the trigger on', () => {
    it('refuses UPDATE, DELETE, TRUNCATE and an insert that carries chain columns', async () => {
      const { pool } = await chainOf(3);
      await expect(pool.query(`UPDATE "AuditEvent" SET "actor" = 'mallory' WHERE "chainSeq" = 2`)).rejects.toThrow(/append-only: UPDATE/);
      await expect(pool.query(`UPDATE "AuditEvent" SET "hash" = NULL, "chainSeq" = NULL, "prevHash" = NULL, "chainHorizon" = NULL WHERE "chainSeq" = 3`)).rejects.toThrow(/append-only/);
      await expect(pool.query(`DELETE FROM "AuditEvent" WHERE "chainSeq" = 2`)).rejects.toThrow(/append-only: DELETE/);
      await expect(pool.query(`TRUNCATE "AuditEvent"`)).rejects.toThrow(/append-only: TRUNCATE/);
      await expect(pool.query(`INSERT INTO "AuditEvent" ("actor", "action", "source", "chainSeq") VALUES ('m', 'web.sign_in', 'api', 99)`)).rejects.toThrow(/cannot carry chain columns/);
      expect((await verifyAuditChain(pool)).ok).toBe(true);
    });
  });

  describe('with the trigger disabled', () => {
    it('names the event whose content was changed by an UPDATE', async () => {
      const { pool, rows } = await chainOf(10);
      const target = (await rows())[4]!;
      await tamper(pool, `UPDATE "AuditEvent" SET "detail" = '{"n": 500}' WHERE "id" = $1`, [target.id]);
      const report = await verifyAuditChain(pool);
      expect(report.ok).toBe(false);
      expect(report.problems[0]).toMatchObject({ kind: 'changed', id: target.id, chainSeq: '5' });
      expect(report.problems[0]!.message).toMatch(/was changed/);
    });

    it('names the event changed when its hash was recomputed too, by the link of the next one', async () => {
      const { pool, rows } = await chainOf(10);
      const target = (await rows())[4]!;
      await tamper(pool, `UPDATE "AuditEvent" SET "detail" = '{"n": 500}' WHERE "id" = $1`, [target.id]);
      const changed = (await pool.query<EventRow>(`SELECT ${EVENT_FIELDS} FROM "AuditEvent" a WHERE a.id = $1`, [target.id])).rows[0]!;
      const forged = eventHash({ chainSeq: target.chainSeq!, prevHash: target.prevHash!, chainHorizon: target.chainHorizon!, content: changed.content });
      await tamper(pool, `UPDATE "AuditEvent" SET "hash" = $2 WHERE "id" = $1`, [target.id, forged]);
      expect((await verifyAuditChain(pool)).problems[0]).toMatchObject({ kind: 'changed', id: target.id, chainSeq: '5' });
    });

    it('names the place of an event removed by a DELETE', async () => {
      const { pool, rows } = await chainOf(10);
      const all = await rows();
      await tamper(pool, `DELETE FROM "AuditEvent" WHERE "chainSeq" = 5`);
      const report = await verifyAuditChain(pool);
      expect(report.ok).toBe(false);
      expect(report.problems[0]).toMatchObject({ kind: 'removed', id: null, chainSeq: '5' });
      expect(report.problems[0]!.message).toContain(`chainSeq 5 is missing: removed between event id ${all[3]!.id} (chainSeq 4) and event id ${all[5]!.id} (chainSeq 6)`);
    });

    it('names an event INSERTed outside the chain with an old transaction id, and the chainer leaves it out', async () => {
      const { pool, rows } = await chainOf(10);
      const old = (await rows())[2]!;
      await tamper(pool, `INSERT INTO "AuditEvent" ("actor", "action", "source", "detail", "createdAt", "txid") VALUES ('ann@example.com', 'review.approved', 'api', '{}', '2026-01-01', $1::xid8)`, [old.txid]);
      const inserted = (await pool.query<{ id: string }>(`SELECT id::text FROM "AuditEvent" WHERE "action" = 'review.approved'`)).rows[0]!.id;
      const report = await verifyAuditChain(pool);
      expect(report.ok).toBe(false);
      expect(report.problems).toEqual([expect.objectContaining({ kind: 'inserted', id: inserted, chainSeq: null })]);
      expect((await pool.query(`SELECT "chainSeq" FROM "AuditEvent" WHERE id = $1`, [inserted])).rows[0].chainSeq).toBeNull();
    });

    it('names an event INSERTed into the middle of the chain with the rest renumbered', async () => {
      const { pool, rows } = await chainOf(10);
      const before = (await rows())[3]!; // chainSeq 4
      await tamper(pool, `UPDATE "AuditEvent" SET "chainSeq" = -"chainSeq" WHERE "chainSeq" >= 5`);
      await tamper(pool, `UPDATE "AuditEvent" SET "chainSeq" = -"chainSeq" + 1 WHERE "chainSeq" < 0`);
      // A forger who knows the algorithm makes the slipped-in event itself look right.
      await tamper(
        pool,
        `INSERT INTO "AuditEvent" ("actor", "action", "source", "detail", "createdAt", "txid") SELECT a."actor", 'review.approved', a."source", '{"n":4.5}', a."createdAt", a."txid" FROM "AuditEvent" a WHERE a.id = $1`,
        [before.id],
      );
      const id = (await pool.query<{ id: string }>(`SELECT id::text FROM "AuditEvent" WHERE "action" = 'review.approved'`)).rows[0]!.id;
      const row = (await pool.query<EventRow>(`SELECT ${EVENT_FIELDS} FROM "AuditEvent" a WHERE a.id = $1`, [id])).rows[0]!;
      const hash = eventHash({ chainSeq: '5', prevHash: before.hash!, chainHorizon: before.chainHorizon!, content: row.content });
      await tamper(pool, `UPDATE "AuditEvent" SET "chainSeq" = 5, "prevHash" = $2, "hash" = $3, "chainHorizon" = $4::xid8 WHERE id = $1`, [id, before.hash, hash, before.chainHorizon]);
      const report = await verifyAuditChain(pool);
      expect(report.ok).toBe(false);
      expect(report.problems[0]).toMatchObject({ kind: 'inserted', id, chainSeq: '5' });
    });

    it('names a change even when the database owner shadows sha256 with a function that hides it and puts their schema first', async () => {
      const { pool, rows, url } = await chainOf(10);
      const target = (await rows())[4]!;
      await tamper(pool, `UPDATE "AuditEvent" SET "detail" = '{"n": 500}' WHERE "id" = $1`, [target.id]);
      // Hashes what the event said before it was changed: an unqualified sha256 would find nothing wrong.
      await pool.query(`CREATE FUNCTION public.sha256(b bytea) RETURNS bytea LANGUAGE sql AS $f$
        SELECT pg_catalog.sha256(pg_catalog.convert_to(pg_catalog.replace(pg_catalog.convert_from(b, 'UTF8'), '"n": 500', '"n": 5'), 'UTF8')) $f$`);
      const dbName = new URL(url).pathname.slice(1);
      await pool.query(`ALTER DATABASE "${dbName}" SET search_path = public, pg_catalog`);
      const fresh = new pg.Pool({ connectionString: url, max: 4 });
      try {
        expect((await fresh.query('SHOW search_path')).rows[0].search_path).toBe('public, pg_catalog');
        const report = await verifyAuditChain(fresh);
        expect(report.problems[0]).toMatchObject({ kind: 'changed', id: target.id, chainSeq: '5' });
      } finally {
        await fresh.end();
      }
    });

    it('names an event whose time was moved to the same day and hour in another era', async () => {
      const { pool, rows } = await chainOf(6);
      const target = (await rows())[2]!;
      await tamper(pool, `UPDATE "AuditEvent" SET "createdAt" = ("createdAt"::text || ' BC')::timestamp WHERE "id" = $1`, [target.id]);
      expect((await pool.query(`SELECT "createdAt"::text AS t FROM "AuditEvent" WHERE id = $1`, [target.id])).rows[0].t).toMatch(/ BC$/);
      expect((await verifyAuditChain(pool)).problems[0]).toMatchObject({ kind: 'changed', id: target.id, chainSeq: '3' });
    });

    it('detects a cut tail only against a head kept outside the database', async () => {
      const { pool } = await chainOf(10);
      const kept = (await verifyAuditChain(pool)).head!.hash;
      await tamper(pool, `DELETE FROM "AuditEvent" WHERE "chainSeq" > 7`);
      // Alone, a shorter chain is a valid chain: that is what the kept head is for.
      expect((await verifyAuditChain(pool)).ok).toBe(true);
      const report = await verifyAuditChain(pool, { expectHead: kept });
      expect(report.ok).toBe(false);
      expect(report.problems).toEqual([expect.objectContaining({ kind: 'truncated' })]);
      expect(report.problems[0]!.message).toContain(`The head you kept (${kept}) is not in the chain`);
    });
  });
});
