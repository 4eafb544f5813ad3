// Once per test run: a template database with every migration applied through the Prisma CLI
// (the same `prisma migrate deploy` users run). Each test file copies it into a fresh database.
import { execFileSync } from 'node:child_process';
import pg from 'pg';
import { ADMIN_URL, TEMPLATE_DB, withDatabase } from './helpers/databases.js';

export default async function setup(): Promise<void> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${TEMPLATE_DB} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${TEMPLATE_DB}`);
  } finally {
    await client.end();
  }
  execFileSync('npx', ['prisma', 'migrate', 'deploy'], {
    env: { ...process.env, DATABASE_URL: withDatabase(ADMIN_URL, TEMPLATE_DB) },
    stdio: 'pipe',
  });
}
