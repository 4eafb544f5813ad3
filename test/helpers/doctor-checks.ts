// What the doctor tests share: the shape of a check, reading the doctor's answer, finding a check,
// and setting up a connection for it to look at.
import { expect } from 'vitest';
import type { TestGateway } from './gateway.js';

export interface Check {
  channel: string;
  name: string;
  status: 'ok' | 'warn' | 'fail';
  message: string;
  fix: string | null;
}

/** The checks `GET /api/admin/doctor` answers (as the admin). */
export async function doctorChecks(t: TestGateway): Promise<Check[]> {
  const res = await t.api('GET', '/api/admin/doctor');
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.checks;
}

/** The check `name` of `channel`, if the doctor made one. */
export const findCheck = (checks: Check[], channel: string, name: string) => checks.find((c) => c.channel === channel && c.name === name);

/** Creates or changes connection `name` on `targetUrl`, reviewed by dba-team, with `extra` fields. */
export async function upsertConnection(t: TestGateway, targetUrl: string, name: string, extra: Record<string, unknown> = {}): Promise<void> {
  const res = await t.api('POST', '/api/connections?overwrite=true', { body: { name, url: targetUrl, reviewers: ['dba-team'], reviewMode: 'all', ...extra } });
  expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
}
