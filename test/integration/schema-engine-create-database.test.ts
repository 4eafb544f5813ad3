// The first step of every replica started on a missing database: the schema engine's `cli
// create-database`, run by many processes at the same moment. Each must succeed.
import { spawn } from 'node:child_process';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN_URL, missingDatabase } from '../helpers/databases.js';
import { ROOT } from '../helpers/gateway-process.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

const missing = () => missingDatabase(cleanups);

/** What the Prisma CLI runs first on a missing database: the engine's `cli create-database`. */
function createDatabase(url: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['scripts/schema-engine-wasm.mjs', '--datasource', JSON.stringify({ url }), 'cli', 'create-database'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

describe('the schema engine creating one missing database from 6 processes at once', () => {
  it('succeeds in every process, 4 trials out of 4', async () => {
    const failures: string[] = [];
    for (let trial = 0; trial < 4; trial++) {
      const db = missing();
      const results = await Promise.all(Array.from({ length: 6 }, () => createDatabase(db.url)));
      for (const r of results) if (r.code !== 0) failures.push(`trial ${trial + 1}: exit ${r.code}: ${r.stderr.split('\n').filter(Boolean).pop()}`);
      expect(await admin((c) => c.query('SELECT 1 FROM pg_database WHERE datname = $1', [db.name])).then((r) => r.rowCount)).toBe(1);
    }
    expect(failures).toEqual([]);
  });
});

