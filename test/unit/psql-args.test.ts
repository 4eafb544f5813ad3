import { describe, expect, it } from 'vitest';
import { CliError } from '../../src/cli/exit-codes.js';
import { parsePsqlArgs, toPostgresUrl } from '../../src/cli/psql-args.js';

describe('parsePsqlArgs', () => {
  const cases: [string, string[], ReturnType<typeof parsePsqlArgs>][] = [
    ['the seed: -h -U and a database', ['psql', '-h', 'localhost', '-U', 'postgres', 'mydb'], { host: 'localhost', port: 5432, user: 'postgres', database: 'mydb' }],
    ['the seed without a database', ['psql', '-h', 'sensitive.internal', '-U', 'admin'], { host: 'sensitive.internal', port: 5432, user: 'admin', database: undefined }],
    ['a port', ['psql', '-h', 'db', '-p', '6543', '-U', 'app', 'app'], { host: 'db', port: 6543, user: 'app', database: 'app' }],
    ['long flags with =', ['psql', '--host=db', '--port=5433', '--username=app', '--dbname=sales'], { host: 'db', port: 5433, user: 'app', database: 'sales' }],
    ['long flags with a space', ['psql', '--host', 'db', '--username', 'app', '--dbname', 'sales'], { host: 'db', port: 5432, user: 'app', database: 'sales' }],
    ['attached short values', ['psql', '-hdb', '-p5433', '-Uapp', '-dsales'], { host: 'db', port: 5433, user: 'app', database: 'sales' }],
    ['-d beats the positional name', ['psql', '-h', 'db', '-d', 'one', 'two'], { host: 'db', port: 5432, user: 'two', database: 'one' }],
    ['dbname then username, as psql takes them', ['psql', 'sales', 'app'], { host: 'localhost', port: 5432, user: 'app', database: 'sales' }],
    ['a URI', ['psql', 'postgres://app@db.internal:5544/sales'], { host: 'db.internal', port: 5544, user: 'app', database: 'sales' }],
    ['a postgresql:// URI with flags overriding', ['psql', 'postgresql://app@db/sales', '-p', '7000'], { host: 'db', port: 7000, user: 'app', database: 'sales' }],
  ];
  it.each(cases)('parses %s', (_name, args, expected) => {
    expect(parsePsqlArgs(args)).toEqual(expected);
  });

  const bad: [string, string[], RegExp][] = [
    ['nothing after --', [], /Missing the psql command line/],
    ['another client', ['mysql', '-h', 'db'], /Only psql/],
    ['an unknown flag, by name', ['psql', '-h', 'db', '--sslmode', 'require'], /Unknown psql flag --sslmode/],
    ['a flag without its value', ['psql', '-h'], /-h needs a value/],
    ['a bad port', ['psql', '-h', 'db', '-p', 'http'], /not a port/],
    ['a password in the URI', ['psql', 'postgres://app:secret@db/sales'], /PGPASSWORD/],
    ['too many names', ['psql', 'a', 'b', 'c'], /Unexpected argument "c"/],
  ];
  it.each(bad)('refuses %s with a usage error', (_name, args, message) => {
    expect(() => parsePsqlArgs(args)).toThrow(message);
    try {
      parsePsqlArgs(args);
    } catch (e) {
      expect((e as CliError).exitCode).toBe(2);
    }
  });
});

describe('toPostgresUrl', () => {
  it('puts the password (encoded) into the URL only when given', () => {
    const t = { host: 'db', port: 5432, user: 'app', database: 'sales' };
    expect(toPostgresUrl(t)).toBe('postgres://app@db:5432/sales');
    expect(toPostgresUrl(t, 'p@ss:w/rd')).toBe('postgres://app:p%40ss%3Aw%2Frd@db:5432/sales');
    expect(toPostgresUrl({ host: '::1', port: 5432 })).toBe('postgres://[::1]:5432');
  });
});
