import { beforeAll, describe, expect, it } from 'vitest';
import { isConnectionLoss, runsInTransaction } from '../../src/execution/outcome-postgres.js';
import { classifyPostgres, loadPostgresParser } from '../../src/sql/classify-postgres.js';

beforeAll(async () => {
  await loadPostgresParser();
});

const inTransaction = (sql: string) => runsInTransaction(classifyPostgres(sql).statements);

describe('runsInTransaction', () => {
  it("runs ordinary input in the gateway's recorded transaction", () => {
    for (const sql of ['UPDATE users SET a = 1 WHERE id = 2', 'SELECT 1; INSERT INTO t VALUES (1)', "DO $$ BEGIN RAISE NOTICE 'x'; END $$", 'CREATE TABLE x (a int); DROP TABLE y', 'VACUUM t']) {
      expect({ sql, yes: inTransaction(sql) }).toEqual({ sql, yes: true });
    }
  });

  it('runs input that controls its own transactions, calls a procedure, commits in DO, or did not parse, as psql -c would', () => {
    for (const sql of [
      'BEGIN; UPDATE t SET a = 1; COMMIT',
      'START TRANSACTION; UPDATE t SET a = 1; ROLLBACK',
      'SAVEPOINT a',
      "PREPARE TRANSACTION 'x'",
      "COMMIT PREPARED 'x'",
      'CALL archive_rows()',
      'DO $$ BEGIN UPDATE t SET a = 1; COMMIT; END $$',
      'this is not sql',
    ]) {
      expect({ sql, yes: inTransaction(sql) }).toEqual({ sql, yes: false });
    }
  });
});

describe('isConnectionLoss', () => {
  it('tells a lost connection from an error the server answered', () => {
    expect(isConnectionLoss(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isConnectionLoss(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }))).toBe(true);
    expect(isConnectionLoss(Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }))).toBe(true);
    expect(isConnectionLoss(Object.assign(new Error('connection failure'), { code: '08006' }))).toBe(true);
    expect(isConnectionLoss(Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' }))).toBe(false);
    expect(isConnectionLoss(Object.assign(new Error('duplicate key'), { code: '23505' }))).toBe(false);
  });
});
