// The oracle: PostgreSQL itself. Every suite statement the classifier calls `read` must run inside
// a read-only transaction without "cannot execute ... in a read-only transaction" (25006).
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyPostgres, loadPostgresParser } from '../../src/sql/classify-postgres.js';
import { strictestKind } from '../../src/sql/types.js';
import { createTargetDatabase } from '../helpers/databases.js';
import { SUITE } from '../fixtures/classify-suite.js';

let target: Awaited<ReturnType<typeof createTargetDatabase>>;

beforeAll(async () => {
  await loadPostgresParser();
  target = await createTargetDatabase();
  await target.query(`ALTER TABLE users ADD COLUMN created_at timestamptz NOT NULL DEFAULT now();
    CREATE TABLE orders (id serial PRIMARY KEY, user_id int, total numeric DEFAULT 0, status text);
    INSERT INTO orders (user_id, total) VALUES (1, 20), (2, 5);`);
});

afterAll(async () => {
  await target?.drop();
});

describe('statements classified read', () => {
  it('never fail with 25006 inside BEGIN READ ONLY', async () => {
    const reads = SUITE.map(([sql]) => sql).filter((sql) => strictestKind(classifyPostgres(sql).statements) === 'read');
    expect(reads.length).toBeGreaterThan(50);
    const client = new pg.Client({ connectionString: target.url });
    await client.connect();
    const misses: string[] = [];
    let ran = 0;
    try {
      for (const sql of reads) {
        await client.query('BEGIN READ ONLY');
        try {
          for (const s of classifyPostgres(sql).statements) await client.query(s.statement);
          ran++;
        } catch (error) {
          if ((error as { code?: string }).code === '25006') misses.push(`${sql}: ${(error as Error).message}`);
        } finally {
          await client.query('ROLLBACK');
        }
      }
    } finally {
      await client.end();
    }
    expect(misses).toEqual([]);
    expect(ran).toBeGreaterThan(reads.length * 0.8); // most reads really ran, not merely failed otherwise
  });

  it('and the oracle does catch a write (the test can fail)', async () => {
    const client = new pg.Client({ connectionString: target.url });
    await client.connect();
    try {
      await client.query('BEGIN READ ONLY');
      await expect(client.query("SELECT nextval('orders_id_seq')")).rejects.toMatchObject({ code: '25006' });
      await client.query('ROLLBACK');
    } finally {
      await client.end();
    }
  });
});
