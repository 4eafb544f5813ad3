// Once per test run: a template database with every migration applied through the Prisma CLI
// (the same `prisma migrate deploy` users run). Each test file copies it into a fresh database.
// The template is named per run, so two runs on one server (parallel checkouts) never clash.
import { execFileSync } from 'node:child_process';
import pg from 'pg';
import { ADMIN_URL, uniqueName, withDatabase } from './helpers/databases.js';
import { ensureWebBuilt } from './helpers/browser.js';

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export default async function setup(): Promise<() => Promise<void>> {
  // Gateways read dist/web when they start: built before any test starts one.
  ensureWebBuilt();
  const template = uniqueName('hoop_test_template');
  // The forked test workers inherit this.
  process.env.HOOP_TEST_TEMPLATE = template;
  await admin(`CREATE DATABASE ${template}`);
  execFileSync('npx', ['prisma', 'migrate', 'deploy'], {
    env: { ...process.env, DATABASE_URL: withDatabase(ADMIN_URL, template) },
    stdio: 'pipe',
  });
  return async () => {
    await admin(`DROP DATABASE IF EXISTS ${template} WITH (FORCE)`);
  };
}
