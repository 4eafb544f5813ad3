import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The server the tests use: TEST_DATABASE_URL, or the local PostgreSQL. */
export const ADMIN_URL = process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
/** The migrated template of this test run (global-setup names it per run, so runs in parallel worktrees never share one). */
export function templateDb(): string {
  return process.env.HOOP_TEST_TEMPLATE ?? 'hoop_test_template';
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(5).toString('hex')}`;
}

/** The name and URL of a database that does not exist yet; `cleanups` gets what drops it if made. */
export function missingDatabase(cleanups: Array<() => Promise<void> | void>): { name: string; url: string } {
  const name = uniqueName('hoop_test_missing');
  cleanups.push(() => admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => {}));
  return { name, url: withDatabase(ADMIN_URL, name) };
}

/** A fresh, migrated database for one test file (a copy of the template). */
export async function createStateDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = uniqueName('hoop_test');
  await admin((c) => c.query(`CREATE DATABASE ${name} TEMPLATE ${templateDb()}`));
  return { url: withDatabase(ADMIN_URL, name), drop: () => admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => {}) };
}

/** A target database the proxy runs approved commands on, with a small `users` table. */
export async function createTargetDatabase(): Promise<{ url: string; query: (sql: string) => Promise<any[]>; drop: () => Promise<void> }> {
  const name = uniqueName('hoop_target');
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  const url = withDatabase(ADMIN_URL, name);
  const query = async (sql: string) => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      return (await c.query(sql)).rows;
    } finally {
      await c.end();
    }
  };
  await query(`CREATE TABLE users (id int PRIMARY KEY, email text NOT NULL, status text NOT NULL DEFAULT 'active');
    INSERT INTO users VALUES (1, 'ann@example.com', 'active'), (2, 'bob@example.com', 'active'), (3, 'cy@example.com', 'active');`);
  return { url, query, drop: () => admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => {}) };
}

export const MYSQL_URL = process.env.TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';

/** A MariaDB/MySQL target database with a `users` table, for the same tests on MySQL. */
export async function createMysqlTarget(): Promise<{ url: string; query: (sql: string) => Promise<any[]>; drop: () => Promise<void> }> {
  const mysql = await import('mysql2/promise');
  const name = uniqueName('hoop_target');
  const admin = await mysql.createConnection({ uri: MYSQL_URL, multipleStatements: true });
  await admin.query(`CREATE DATABASE ${name}; CREATE TABLE ${name}.users (id int PRIMARY KEY, email varchar(200) NOT NULL, status varchar(50) NOT NULL DEFAULT 'active');
    INSERT INTO ${name}.users VALUES (1, 'ann@example.com', 'active'), (2, 'bob@example.com', 'active'), (3, 'cy@example.com', 'active');`);
  await admin.end();
  const url = `${MYSQL_URL.replace(/\/$/, '')}/${name}`;
  const query = async (sql: string) => {
    const c = await mysql.createConnection({ uri: url });
    try {
      return (await c.query(sql))[0] as any[];
    } finally {
      await c.end();
    }
  };
  return {
    url,
    query,
    drop: async () => {
      const c = await mysql.createConnection({ uri: MYSQL_URL });
      await c.query(`DROP DATABASE IF EXISTS ${name}`);
      await c.end();
    },
  };
}
