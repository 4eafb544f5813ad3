// `npm start` runs the bundle (dist/gateway.mjs) with the flags package.json gives node: the same
// gateway as the sources, its classification worker thread included, and the sources when a
// source file is newer than the bundle.
import { statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStateDatabase, createTargetDatabase } from '../helpers/databases.js';
import { gatewayEnv, productionArgv, ROOT, startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';

let state: Awaited<ReturnType<typeof createStateDatabase>>;
let target: Awaited<ReturnType<typeof createTargetDatabase>>;
const running: GatewayProcess[] = [];

beforeAll(async () => {
  state = await createStateDatabase();
  target = await createTargetDatabase();
});

afterAll(async () => {
  for (const gw of running) await gw.dispose();
  await target?.drop();
  await state?.drop();
});

describe('npm start', () => {
  it('runs the bundle, which classifies a large command in its worker thread and runs a read', async () => {
    const argv = productionArgv();
    expect(argv).toContain('bin/gateway.mjs');
    const gw = startGatewayProcess(gatewayEnv(state.url), { argv });
    running.push(gw);
    await gw.listening;
    // The bundle, not the sources (bin/gateway.mjs falls back to them when they are newer).
    expect((await gw.waitForLog((l) => l.msg === 'starting')).code).toBe('dist/gateway.mjs');
    const alice = (await gw.api('POST', '/api/users', { body: { email: 'alice@example.com', groups: ['dba'] } })).body;
    expect((await gw.api('POST', '/api/connections', { body: { name: 'db', url: target.url, reviewers: ['dba'] } })).status).toBe(201);
    // Over 4 KB: classified in the worker thread (dist/classify-worker.mjs); a read runs at once.
    const big = `SELECT id FROM users WHERE id IN (${Array.from({ length: 1500 }, (_, i) => i + 1).join(', ')})`;
    expect(Buffer.byteLength(big)).toBeGreaterThan(4096);
    const read = await gw.api('POST', '/api/connections/db/exec', { key: alice.apiKey, body: { input: big } });
    expect(read.status, JSON.stringify(read.body).slice(0, 300)).toBe(201);
    expect(read.body.status).toBe('EXECUTED');
    // And a write over 4 KB is classified as a write there too (held for review, not run).
    const write = await gw.api('POST', '/api/connections/db/exec', { key: alice.apiKey, body: { input: `${big.replace('SELECT id FROM', 'DELETE FROM')}` } });
    expect(write.status, JSON.stringify(write.body).slice(0, 300)).toBe(201);
    expect(write.body.status).toBe('PENDING');
  });

  it('builds the bundle newer than every source, so a fresh checkout runs it', () => {
    const bundle = statSync(path.join(ROOT, 'dist/gateway.mjs')).mtimeMs;
    expect(bundle).toBeGreaterThan(statSync(path.join(ROOT, 'src/main.ts')).mtimeMs);
    expect(statSync(path.join(ROOT, 'dist/classify-worker.mjs')).mtimeMs).toBeGreaterThan(0);
  });
});
