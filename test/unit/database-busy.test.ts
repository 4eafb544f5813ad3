import { describe, expect, it } from 'vitest';
import { isDatabaseBusy } from '../../src/db/database-busy.js';
import { AppError, ErrorCode } from '../../src/errors.js';

const prisma = (code: string, meta?: unknown) => Object.assign(new Error(`prisma ${code}`), { name: 'PrismaClientKnownRequestError', code, meta });
const adapter = (sqlState: string) => prisma('P2010', { driverAdapterError: { cause: { originalCode: sqlState } } });

describe('isDatabaseBusy', () => {
  it.each([
    ['a transaction that could not start in time (P2028)', prisma('P2028')],
    ['no pooled connection in time (P2024)', prisma('P2024')],
    ['a serialization failure or deadlock (P2034)', prisma('P2034')],
    ['no connection slots left (P2037)', prisma('P2037')],
    ['an unreachable server (P1001)', prisma('P1001')],
    ['too_many_connections from the adapter', adapter('53300')],
    ['lock_not_available from the adapter', adapter('55P03')],
    ['a statement timeout from the adapter', adapter('57014')],
    ['a pg error with its SQLSTATE', Object.assign(new Error('sorry, too many clients already'), { code: '53300' })],
    ["pg-pool's connection timeout", new Error('timeout exceeded when trying to connect')],
    ['a busy error as the cause of another', new Error('wrapped', { cause: prisma('P2028') })],
  ])('is true for %s', (_what, error) => {
    expect(isDatabaseBusy(error)).toBe(true);
  });

  it.each([
    ['a unique constraint violation (P2002)', prisma('P2002')],
    ['a record not found (P2025)', prisma('P2025')],
    ['a syntax error from the adapter', adapter('42601')],
    ['a coded AppError', new AppError(ErrorCode.Conflict, 'changed meanwhile')],
    ['a plain error', new Error('boom')],
    ['not an error', 'P2028'],
    ['nothing', undefined],
  ])('is false for %s', (_what, error) => {
    expect(isDatabaseBusy(error)).toBe(false);
  });
});
