// A database stopped at an older migration, for tests of the migration that follows: each
// prisma/migrations/*/migration.sql is sent as one simple-protocol query, in order, as `prisma
// migrate deploy` does (without its _prisma_migrations bookkeeping, which these tests do not need).
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { ADMIN_URL, uniqueName, withDatabase } from './databases.js';

const MIGRATIONS = fileURLToPath(new URL('../../prisma/migrations/', import.meta.url));

/** Every migration's directory name, oldest first. */
export function migrationNames(): string[] {
  return readdirSync(MIGRATIONS, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
}

export interface MigratingDatabase {
  client: pg.Client;
  /** Applies one migration by its directory name. */
  apply(name: string): Promise<void>;
  drop(): Promise<void>;
}

/** A new database with every migration before `next` applied (and not `next` itself). */
export async function databaseBefore(next: string): Promise<MigratingDatabase> {
  const names = migrationNames();
  if (!names.includes(next)) throw new Error(`no migration ${next}`);
  const name = uniqueName('hoop_test_migrate');
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const client = new pg.Client({ connectionString: withDatabase(ADMIN_URL, name) });
  await client.connect();
  const apply = async (m: string) => {
    await client.query(readFileSync(`${MIGRATIONS}${m}/migration.sql`, 'utf8'));
  };
  for (const m of names.filter((m) => m < next)) await apply(m);
  return {
    client,
    apply,
    drop: async () => {
      await client.end().catch(() => {});
      const a = new pg.Client({ connectionString: ADMIN_URL });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  };
}
