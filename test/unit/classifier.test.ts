import { afterAll, describe, expect, it } from 'vitest';
import { createClassifier } from '../../src/sql/classifier.js';

const classifier = createClassifier({ offloadBytes: 1024 });
afterAll(() => classifier.close());

describe('the classifier', () => {
  it('classifies a large input in a worker thread while the event loop keeps turning', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const sql = 'SELECT id FROM users WHERE id = 1;\n'.repeat(20_000);
    const c = await classifier.classify({ dialect: 'postgres', sql, options: {} });
    clearInterval(timer);
    expect(c.statements).toHaveLength(20_000);
    expect(c.statements[19_999]).toMatchObject({ kind: 'read', command: 'SELECT', tables: ['users'] });
    expect(ticks).toBeGreaterThan(5);
  });

  it('gives the same answer inline and in the worker', async () => {
    const sql = "SELECT 1; UPDATE users SET a = 1; DO $$ BEGIN EXECUTE 'DROP TABLE t'; END $$";
    const inline = await classifier.classify({ dialect: 'postgres', sql, options: {} });
    const padded = await classifier.classify({ dialect: 'postgres', sql: sql + ' '.repeat(2000), options: {} });
    expect(padded.statements.map((s) => [s.kind, s.command, s.nested, s.warnings])).toEqual(inline.statements.map((s) => [s.kind, s.command, s.nested, s.warnings]));
  });

  it('counts without classifying when the input has too many statements', async () => {
    const c = await classifier.classify({ dialect: 'postgres', sql: 'SELECT 1;'.repeat(2000), options: { maxStatements: 1000 } });
    expect(c).toMatchObject({ tooManyStatements: 2000, statements: [] });
  });

  it('fails closed when a classification takes too long: the input is unknown, and the next one works', async () => {
    const slow = createClassifier({ offloadBytes: 1, timeoutMs: 500 });
    try {
      const c = await slow.classify({ dialect: 'postgres', sql: 'SELECT 1;'.repeat(300_000), options: {} });
      expect(c.parsed).toBe(false);
      expect(c.statements[0]).toMatchObject({ kind: 'unknown' });
      expect(c.statements[0].warnings[0]).toMatch(/^could not be classified: it took longer than/);
      const next = await slow.classify({ dialect: 'postgres', sql: 'DELETE FROM users WHERE id = 1', options: {} });
      expect(next.statements[0]).toMatchObject({ kind: 'write', command: 'DELETE' });
    } finally {
      await slow.close();
    }
  });
});
