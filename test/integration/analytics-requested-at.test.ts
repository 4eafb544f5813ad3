// ReviewGroup.requestedAt, the copy of its request's time that lets the analytics read the groups'
// waits without joining the requests: kept by triggers whatever a writer sends, so that it cannot
// drift from "Review"."createdAt".
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStateDatabase } from '../helpers/databases.js';
import { databaseBefore } from '../helpers/migrations.js';

let state: Awaited<ReturnType<typeof createStateDatabase>>;
let client: pg.Client;
const REVIEW = '00000000-0000-4000-8000-000000000001';
const CREATED = '2026-01-02 10:00:00.123';

const requestedAt = async (group: string) =>
  (await client.query(`SELECT to_char("requestedAt", 'YYYY-MM-DD HH24:MI:SS.MS') AS at FROM "ReviewGroup" WHERE "reviewId" = $1 AND "group" = $2`, [REVIEW, group])).rows[0]?.at;

beforeAll(async () => {
  state = await createStateDatabase();
  client = new pg.Client({ connectionString: state.url });
  await client.connect();
  const user = (await client.query(`INSERT INTO "User" (id, email, "updatedAt") VALUES (gen_random_uuid(), 'alice@example.com', now()) RETURNING id`)).rows[0].id;
  const connection = (await client.query(`INSERT INTO "Connection" (id, name, url, reviewers, "updatedAt") VALUES (gen_random_uuid(), 'prod-db', 'postgresql://x/y', '{dba-team}', now()) RETURNING id`)).rows[0].id;
  await client.query(
    `INSERT INTO "Review" (id, "connectionId", "requesterId", input, "createdAt", "expiresAt", "commandTags") VALUES ($1, $2, $3, 'DELETE FROM t', $4, $4::timestamp + interval '1 hour', '{}')`,
    [REVIEW, connection, user, CREATED],
  );
});

afterAll(async () => {
  await client?.end();
  await state?.drop();
});

describe('ReviewGroup.requestedAt', () => {
  it("is its request's time, whatever the insert says", async () => {
    await client.query(`INSERT INTO "ReviewGroup" (id, "reviewId", "group") VALUES (gen_random_uuid(), $1, 'dba-team')`, [REVIEW]);
    await client.query(`INSERT INTO "ReviewGroup" (id, "reviewId", "group", "requestedAt") VALUES (gen_random_uuid(), $1, 'security', '2000-01-01')`, [REVIEW]);
    expect(await requestedAt('dba-team')).toBe(CREATED);
    expect(await requestedAt('security')).toBe(CREATED);
  });

  it('cannot be changed on its own', async () => {
    await client.query(`UPDATE "ReviewGroup" SET "requestedAt" = '2000-01-01' WHERE "reviewId" = $1 AND "group" = 'security'`, [REVIEW]);
    expect(await requestedAt('security')).toBe(CREATED);
  });

  it("follows a change of the request's time (a restore, a fix by hand)", async () => {
    await client.query(`UPDATE "Review" SET "createdAt" = '2026-01-03 08:00:00.5' WHERE id = $1`, [REVIEW]);
    expect(await requestedAt('dba-team')).toBe('2026-01-03 08:00:00.500');
    expect(await requestedAt('security')).toBe('2026-01-03 08:00:00.500');
  });

  it('leaves a group of no request to the foreign key, which refuses it', async () => {
    const insert = client.query(`INSERT INTO "ReviewGroup" (id, "reviewId", "group") VALUES (gen_random_uuid(), gen_random_uuid(), 'dba-team')`);
    await expect(insert).rejects.toMatchObject({ code: '23503' });
  });
});

describe('the migration that adds it', () => {
  it("fills it on the group rows already there from their requests' times", async () => {
    const db = await databaseBefore('20261130210000_analytics_covering_indexes');
    try {
      const c = db.client;
      const user = (await c.query(`INSERT INTO "User" (id, email, "updatedAt") VALUES (gen_random_uuid(), 'bob@example.com', now()) RETURNING id`)).rows[0].id;
      const conn = (await c.query(`INSERT INTO "Connection" (id, name, url, reviewers, "updatedAt") VALUES (gen_random_uuid(), 'old-db', 'postgresql://x/y', '{dba-team}', now()) RETURNING id`)).rows[0].id;
      for (const [n, created] of [[1, '2025-05-01 09:00:00.250'], [2, '2025-06-01 12:30:00']] as const) {
        const id = `00000000-0000-4000-8000-00000000000${n}`;
        await c.query(`INSERT INTO "Review" (id, "connectionId", "requesterId", input, "createdAt", "expiresAt", "commandTags") VALUES ($1, $2, $3, 'UPDATE t SET a = 1', $4, $4, '{}')`, [id, conn, user, created]);
        await c.query(`INSERT INTO "ReviewGroup" (id, "reviewId", "group") VALUES (gen_random_uuid(), $1, 'dba-team'), (gen_random_uuid(), $1, 'security')`, [id]);
      }
      await db.apply('20261130210000_analytics_covering_indexes');
      const rows = (await c.query(`SELECT count(*)::int AS n FROM "ReviewGroup" g JOIN "Review" r ON r.id = g."reviewId" WHERE g."requestedAt" = r."createdAt"`)).rows;
      expect(rows[0].n).toBe(4);
    } finally {
      await db.drop();
    }
  });
});
