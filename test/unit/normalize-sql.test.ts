// The pattern of a command (analytics' "common commands"): literals, spacing, comments and keyword
// case do not make a new pattern; names and structure do.
import { beforeAll, describe, expect, it } from 'vitest';
import { fingerprintOf, textFingerprint } from '../../src/sql/fingerprint.js';
import { normalizeSql } from '../../src/sql/normalize-sql.js';
import { loadPostgresParser } from '../../src/sql/classify-postgres.js';

describe('normalizeSql', () => {
  it.each([
    ["SELECT * FROM users WHERE email = 'a@example.com'", 'select * from users where email = ?'],
    ['select *\n  FROM users\twhere id=42;', 'select * from users where id = ?'],
    ["UPDATE t SET a = 'it''s', b = \"x\\\"y\" WHERE id = -7", 'update t set a = ?, b = ? where id = ?'],
    ['DELETE FROM t WHERE id IN (1, 2, 3)', 'delete from t where id in (?+)'],
    ['INSERT INTO t (a, b) VALUES (1, 2), (3, 4), (5, 6)', 'insert into t (a, b) values (?+)'],
    ['SELECT 1.5e3, 0x1F, X\'ff\', b\'01\' -- trailing\n', 'select ?, ?, ?, ?'],
    ['SELECT /* hint */ `Order`.id # comment\nFROM `Order`', 'select `Order`.id from `Order`'],
    ['SELECT a - 1 FROM t', 'select a - ? from t'],
  ])('%j → %j', (sql, pattern) => {
    expect(normalizeSql(sql)).toBe(pattern);
  });

  it('keeps names as they are written (MySQL table names can be case-sensitive)', () => {
    expect(normalizeSql('SELECT Name FROM Users')).toBe('select Name from Users');
    expect(normalizeSql('SELECT name FROM users')).not.toBe(normalizeSql('SELECT name FROM orders'));
  });

  it('does not hang on an unterminated string or comment', () => {
    expect(normalizeSql("SELECT 'abc")).toBe('select ?');
    expect(normalizeSql('SELECT 1 /* never closed')).toBe('select ?');
  });
});

describe('fingerprintOf', () => {
  beforeAll(() => loadPostgresParser());

  it('gives PostgreSQL commands that differ only in literals one fingerprint, from PostgreSQL itself', () => {
    const a = fingerprintOf('postgres', "SELECT * FROM users WHERE email = 'a@example.com'");
    expect(a).toMatch(/^pg:[0-9a-f]{16}$/);
    expect(fingerprintOf('postgres', "select *  from users where email = 'b@example.com' ")).toBe(a);
    expect(fingerprintOf('postgres', 'SELECT * FROM orders WHERE id = 1')).not.toBe(a);
  });

  it('groups MySQL commands by their normalised text', () => {
    const a = fingerprintOf('mysql', 'UPDATE accounts SET active = 0 WHERE id = 1');
    expect(a).toMatch(/^text:[0-9a-f]{16}$/);
    expect(fingerprintOf('mysql', 'update accounts   set active = 1 where id = 99')).toBe(a);
    expect(fingerprintOf('mysql', 'UPDATE accounts SET active = 0 WHERE name = 1')).not.toBe(a);
  });

  it('falls back to the normalised text for input PostgreSQL cannot parse', () => {
    expect(fingerprintOf('postgres', 'SELEC 1 FROM')).toBe(textFingerprint('SELEC 2 FROM'));
  });
});
