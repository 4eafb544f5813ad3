// What information_schema of a real MariaDB tells column lineage: columns in order, INVISIBLE ones
// apart, view definitions, and the relations views read, also in another database.
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maskingOnTarget, relationsOnTarget } from '../../src/execution/mysql-catalog.js';
import { classifyMysql } from '../../src/sql/classify-mysql.js';
import { createMysqlTarget } from '../helpers/databases.js';

let main: Awaited<ReturnType<typeof createMysqlTarget>>;
let other: Awaited<ReturnType<typeof createMysqlTarget>>;
let conn: mysql.Connection;
const dbOf = (t: { url: string }) => new URL(t.url).pathname.slice(1);

beforeAll(async () => {
  main = await createMysqlTarget();
  other = await createMysqlTarget();
  await other.query('CREATE TABLE secrets (id int, token varchar(50), pin int INVISIBLE)');
  await other.query('CREATE VIEW tokens AS SELECT id AS tid, token FROM secrets');
  await main.query(`CREATE VIEW contacts AS SELECT u.id, LOWER(u.email) AS contact, t.token FROM users u JOIN ${dbOf(other)}.tokens t ON t.tid = u.id`);
  conn = await mysql.createConnection({ uri: main.url });
});

afterAll(async () => {
  await conn?.end();
  await main?.drop();
  await other?.drop();
});

describe('relationsOnTarget', () => {
  it('resolves unqualified names in DATABASE() and follows views, round by round, into other databases', async () => {
    const relations = await relationsOnTarget(conn, ['contacts', 'no_such_table']);
    const byName = new Map(relations.map((r) => [`${r.schema}.${r.name}`, r]));
    expect(byName.get(`${dbOf(main)}.contacts`)).toMatchObject({ kind: 'v', visible: true, columns: ['id', 'contact', 'token'] });
    expect(byName.get(`${dbOf(main)}.contacts`)?.definition).toContain('lcase(');
    expect(byName.get(`${dbOf(main)}.users`)).toMatchObject({ kind: 'r', visible: true, columns: ['id', 'email', 'status'] });
    expect(byName.get(`${dbOf(other)}.tokens`)).toMatchObject({ kind: 'v', visible: false, columns: ['tid', 'token'] });
    expect(byName.get(`${dbOf(other)}.secrets`)).toMatchObject({ kind: 'r', columns: ['id', 'token'], hidden: ['pin'] });
    expect([...byName.keys()].some((k) => k.endsWith('no_such_table'))).toBe(false);
  });

  it('gives lineage that masks through views of views in another database, and leaves clean columns clear', async () => {
    const sql = 'SELECT contact, id, token FROM contacts';
    const masking = await maskingOnTarget(conn, { columns: ['email', 'secrets.token'], detectors: [] }, classifyMysql(sql).statements);
    expect(masking?.lineage?.[0]).toMatchObject({ outputs: [1, 0, 1], outputMax: 1 });
    const [rows] = await conn.query(sql);
    expect((rows as unknown[]).length).toBe(0); // the view runs: the catalog described what the server reads
  });

  it('asks nothing when the connection masks no columns', async () => {
    expect(await maskingOnTarget(conn, { columns: [], detectors: ['email'] }, classifyMysql('SELECT * FROM contacts').statements)).toEqual({ rules: { columns: [], detectors: ['email'] } });
  });
});
