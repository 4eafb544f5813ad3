import { describe, expect, it } from 'vitest';
import { mysqlAutoRunRefusal, mysqlModeFrom, mysqlServerFrom } from '../../src/sql/mysql-mode.js';

describe('mysqlModeFrom', () => {
  it.each([
    ['STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION', false, false],
    ['', false, false],
    ['NO_BACKSLASH_ESCAPES', true, false],
    ['strict_trans_tables, no_backslash_escapes', true, false],
    ['ANSI_QUOTES', false, true],
    ['REAL_AS_FLOAT,PIPES_AS_CONCAT,ANSI_QUOTES,IGNORE_SPACE,ANSI', false, true],
    ['ANSI', false, true],
    ['POSTGRESQL', false, true],
    ['NO_BACKSLASH_ESCAPES,ANSI_QUOTES', true, true],
  ])('reads %j as NO_BACKSLASH_ESCAPES %s, ANSI_QUOTES %s', (sqlMode, nbe, ansi) => {
    const check = mysqlModeFrom(sqlMode);
    expect(check.mode).toEqual({ noBackslashEscapes: nbe, ansiQuotes: ansi });
    expect(check.differs).toBe(nbe || ansi);
    expect(check.reasons).toHaveLength(Number(nbe) + Number(ansi));
  });

  it('says a mode with a grammar of its own differs, whatever was assumed', () => {
    const oracle = mysqlModeFrom('PIPES_AS_CONCAT,ANSI_QUOTES,IGNORE_SPACE,ORACLE,NO_KEY_OPTIONS', { ansiQuotes: true });
    expect(oracle.differs).toBe(true);
    expect(oracle.reasons).toEqual(["The server's sql_mode has ORACLE (MariaDB then reads PL/SQL-style SQL with its own grammar), which the gateway's classifier does not read."]);
    expect(mysqlModeFrom('MSSQL', { ansiQuotes: true }).reasons[0]).toContain('[name] as a quoted identifier');
  });

  it('compares with what the classification assumed', () => {
    expect(mysqlModeFrom('NO_BACKSLASH_ESCAPES', { noBackslashEscapes: true }).differs).toBe(false);
    const check = mysqlModeFrom('', { noBackslashEscapes: true });
    expect(check.differs).toBe(true);
    expect(check.reasons[0]).toContain('lacks NO_BACKSLASH_ESCAPES');
  });
});

describe('mysqlAutoRunRefusal', () => {
  it('lets a read run at once when the server reads SQL as the classification assumed', () => {
    expect(mysqlAutoRunRefusal('STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION')).toBeNull();
    expect(mysqlAutoRunRefusal('NO_BACKSLASH_ESCAPES', { noBackslashEscapes: true })).toBeNull();
  });

  it.each(['NO_BACKSLASH_ESCAPES', 'ANSI_QUOTES', 'ANSI', 'ORACLE'])('refuses on a server with %s, saying why and what happens next', (sqlMode) => {
    const reason = mysqlAutoRunRefusal(sqlMode);
    expect(reason).toMatch(/^The server's sql_mode /);
    expect(reason).toContain('So it does not run without review; a reviewer must approve it');
  });
});

describe('mysqlServerFrom', () => {
  it.each([
    ['10.11.19-MariaDB-0+deb12u1', { mariadb: true, version: 101119 }],
    ['5.5.5-10.6.12-MariaDB-log', { mariadb: true, version: 100612 }],
    ['11.4.2-MariaDB', { mariadb: true, version: 110402 }],
    ['8.0.36', { mariadb: false, version: 80036 }],
    ['8.4.0-commercial', { mariadb: false, version: 80400 }],
    ['5.7.44-log', { mariadb: false, version: 50744 }],
  ])('reads %j', (version, server) => {
    expect(mysqlServerFrom(version)).toEqual(server);
  });

  it('gives up on what is not a version', () => {
    expect(mysqlServerFrom('unknown')).toBeUndefined();
  });
});
