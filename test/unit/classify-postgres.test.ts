import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { classifyPostgres, loadPostgresParser } from '../../src/sql/classify-postgres.js';
import { strictestKind } from '../../src/sql/types.js';
import { SUITE } from '../fixtures/classify-suite.js';

beforeAll(async () => {
  await loadPostgresParser();
});

describe('classifyPostgres on the table-driven suite', () => {
  it('has at least 150 statements', () => {
    expect(SUITE.length).toBeGreaterThanOrEqual(150);
  });

  it.each(SUITE)('classifies %j as %s', (sql, kind) => {
    expect(strictestKind(classifyPostgres(sql).statements)).toBe(kind);
  });
});

describe('classifyPostgres details', () => {
  it('splits multi-statement input and gives each statement its own text and kind', () => {
    const c = classifyPostgres("SELECT 1; UPDATE users SET a = 1 WHERE id = 2;\nDELETE FROM orders");
    expect(c.statements.map((s) => [s.kind, s.command, s.statement])).toEqual([
      ['read', 'SELECT', 'SELECT 1'],
      ['write', 'UPDATE', 'UPDATE users SET a = 1 WHERE id = 2'],
      ['write', 'DELETE', 'DELETE FROM orders'],
    ]);
  });

  it('finds the bypass hidden behind a backslash in a string (standard_conforming_strings)', () => {
    const c = classifyPostgres("SELECT 'a\\'; DROP TABLE users; --'");
    expect(c.statements.map((s) => s.command)).toEqual(['SELECT', 'DROP TABLE']);
  });

  it('names the tables touched, not the CTEs', () => {
    const c = classifyPostgres('WITH r AS (SELECT * FROM orders) SELECT * FROM users u JOIN r ON r.user_id = u.id');
    expect(c.statements[0].tables).toEqual(['orders', 'users']);
    expect(classifyPostgres('UPDATE app.users SET a = 1 WHERE id = 1').statements[0].tables).toEqual(['app.users']);
  });

  it('warns about UPDATE and DELETE without WHERE', () => {
    const [s] = classifyPostgres('DELETE FROM users').statements;
    expect(s.unboundedWrite).toBe(true);
    expect(s.warnings[0]).toBe('DELETE without WHERE changes every row of users');
    expect(classifyPostgres('DELETE FROM users WHERE id = 1').statements[0].unboundedWrite).toBe(false);
  });

  it('says why input that does not parse is unknown', () => {
    const c = classifyPostgres('SELEC 1');
    expect(c.parsed).toBe(false);
    expect(c.statements[0].warnings[0]).toMatch(/^could not be parsed: syntax error at or near "SELEC"/);
  });

  it('lets a connection allow-list a function it knows only reads', () => {
    expect(classifyPostgres('SELECT my_report(1)').statements[0].kind).toBe('write');
    expect(classifyPostgres('SELECT my_report(1)', { allowFunctions: ['my_report'] }).statements[0].kind).toBe('read');
  });

  it('normalises constants away for regex guardrails', () => {
    expect(classifyPostgres("SELECT * FROM users WHERE email = 'a@b.c' AND id = 3").statements[0].normalized).toBe('SELECT * FROM users WHERE email = $1 AND id = $2');
  });
});

describe('classifyPostgres on PostgreSQL\'s own regression SQL', () => {
  const shared = process.env.HOOP_SHARED_DIR ?? path.resolve('../shared');
  const rows: { file: string; index: number; sql: string; readOnlyError: string | null }[] = readFileSync(path.join(shared, 'corpus/postgres-regress-labels.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));

  it('never calls read a statement PostgreSQL refused as a write (25006) or outside a transaction block (25001)', () => {
    expect(rows.length).toBe(5681);
    const refused = rows.filter((r) => r.readOnlyError === '25006' || r.readOnlyError === '25001');
    expect(refused.length).toBeGreaterThan(500);
    const misses = refused.filter((r) => strictestKind(classifyPostgres(r.sql).statements) === 'read').map((r) => `${r.file}#${r.index}: ${r.sql.slice(0, 80)}`);
    expect(misses).toEqual([]);
  });

  it('calls read at least 90 % of the plain SELECT/WITH/VALUES/TABLE/SHOW statements PostgreSQL ran read-only', () => {
    const plain = rows.filter((r) => r.readOnlyError === null && /^(SELECT|WITH|VALUES|TABLE|SHOW)\b/i.test(r.sql.replace(/^(\s|--[^\n]*\n|\/\*[\s\S]*?\*\/)*/, '')));
    expect(plain.length).toBeGreaterThan(800);
    const read = plain.filter((r) => strictestKind(classifyPostgres(r.sql).statements) === 'read').length;
    expect(read / plain.length).toBeGreaterThanOrEqual(0.9);
  });
});
