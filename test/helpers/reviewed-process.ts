// A gateway process on a fresh state database with a requester (alice), a reviewer (dana) and a
// reviewed connection `prod`, and the steps the shutdown tests take on it.
import pg from 'pg';
import { expect } from 'vitest';
import { createStateDatabase } from './databases.js';
import { gatewayEnv, startGatewayProcess, type GatewayProcess } from './gateway-process.js';
import { eventually } from './gateway.js';

export interface ReviewedProcess {
  gw: GatewayProcess;
  stateUrl: string;
  prefix: string;
  /** API keys. */
  alice: string;
  dana: string;
}

/** Starts it; `cleanups` gets what stops it and drops its database. */
export async function startReviewedProcess(
  targetUrl: string,
  cleanups: Array<() => Promise<void> | void>,
  env: Record<string, string> = {},
  options: Parameters<typeof startGatewayProcess>[1] = {},
): Promise<ReviewedProcess> {
  const state = await createStateDatabase();
  const processEnv = gatewayEnv(state.url, { MIGRATE_ON_START: 'false', ...env });
  const gw = startGatewayProcess(processEnv, options);
  cleanups.push(() => state.drop(), () => gw.dispose());
  await gw.listening;
  const user = async (email: string, groups: string[]) => {
    const res = await gw.api('POST', '/api/users', { body: { email, groups } });
    expect(res.status).toBe(201);
    return res.body.apiKey as string;
  };
  const alice = await user('alice@example.com', ['developers']);
  const dana = await user('dana@example.com', ['dba-team']);
  const conn = await gw.api('POST', '/api/connections', { body: { name: 'prod', url: targetUrl, reviewers: ['dba-team'], reviewMode: 'all' } });
  expect(conn.status).toBe(201);
  return { gw, stateUrl: state.url, prefix: processEnv.QUEUE_PREFIX, alice, dana };
}

/** alice submits `input`; it waits for review. */
export async function submit(s: ReviewedProcess, input: string): Promise<string> {
  const res = await s.gw.api('POST', '/api/connections/prod/exec', { key: s.alice, body: { input } });
  expect(res.status).toBe(201);
  expect(res.body.status).toBe('PENDING');
  return res.body.id;
}

/** Submits, approves and waits until the gateway runs it. */
export async function running(s: ReviewedProcess, input: string): Promise<string> {
  const id = await submit(s, input);
  const ok = await s.gw.api('PUT', `/api/reviews/${id}/approve`, { key: s.dana, body: {} });
  expect(ok.status).toBe(200);
  await eventually(async () => (await s.gw.api('GET', `/api/reviews/${id}`)).body.status === 'RUNNING', 10_000, 'the run to start');
  return id;
}

/** The review as stored, read over a connection of its own. */
export async function reviewRow(stateUrl: string, id: string): Promise<{ status: string; heartbeatAt: Date | null; error: string | null }> {
  const c = new pg.Client({ connectionString: stateUrl });
  await c.connect();
  try {
    return (await c.query('SELECT status, "heartbeatAt", error FROM "Review" WHERE id = $1', [id])).rows[0];
  } finally {
    await c.end();
  }
}
