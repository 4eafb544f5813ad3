// An outbox lease means the same instant to every relay, whatever time zone each one's database
// session runs in (a replica with PGTZ set, a role or database with its own TimeZone setting).
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createDb, type Db } from '../../src/db/client.js';
import { leaseOutbox, writeOutbox } from '../../src/db/outbox.js';
import { createStateDatabase, uniqueName } from '../helpers/databases.js';

let state: Awaited<ReturnType<typeof createStateDatabase>>;
const dbs: Db[] = [];

/** A state client whose sessions run in time zone `tz`. */
function dbIn(tz: string): Db {
  const url = new URL(state.url);
  url.searchParams.set('options', `-c TimeZone=${tz}`);
  const db = createDb(url.toString(), { max: 2 });
  dbs.push(db);
  return db;
}

beforeAll(async () => {
  state = await createStateDatabase();
});
afterAll(async () => {
  for (const db of dbs) await db.$disconnect();
  await state?.drop();
});

async function rowsOf(db: Db, prefix: string, n: number): Promise<void> {
  const entries = Array.from({ length: n }, () => ({ name: 'review.expire', payload: { reviewId: randomUUID() }, jobId: `expire-${randomUUID()}` }));
  await writeOutbox(db, prefix, null, entries);
}

it.each([
  ['America/Los_Angeles', 'Pacific/Kiritimati'],
  ['Pacific/Kiritimati', 'America/Los_Angeles'],
  ['UTC', 'Asia/Kolkata'],
])('a lease taken by a relay in %s holds for a relay in %s, and lapses for it on time', async (first, second) => {
  const a = dbIn(first);
  const b = dbIn(second);
  // The sessions really are in those zones.
  expect(((await a.$queryRawUnsafe('SHOW timezone')) as { TimeZone: string }[])[0].TimeZone).toBe(first);
  const prefix = uniqueName('tz');
  await rowsOf(a, prefix, 3);
  const taken = await leaseOutbox(a, prefix, { limit: 10, leaseMs: 1500 });
  expect(taken).toHaveLength(3);
  // Held: the other relay takes nothing while the lease runs.
  expect(await leaseOutbox(b, prefix, { limit: 10, leaseMs: 1500 })).toHaveLength(0);
  // Lapsed (its relay died): the other relay takes the rows over.
  await new Promise((r) => setTimeout(r, 1700));
  expect(await leaseOutbox(b, prefix, { limit: 10, leaseMs: 1500 })).toHaveLength(3);
});
