// Which errors of our own database are answered "try again" (503) rather than 500, and which of
// them mean the connection was lost (so a write in flight may have committed). The shapes are the
// ones the gateway logged while its database's sessions were terminated (state-db-drop.test.ts).
import { describe, expect, it } from 'vitest';
import { isConnectionLost, isDatabaseBusy } from '../../src/db/database-busy.js';
import { AppError, ErrorCode } from '../../src/errors.js';

/** A Prisma error around a driver-adapter error, as Prisma 7 over adapter-pg throws it. */
function prismaError(code: string, cause: Record<string, unknown>) {
  return Object.assign(new Error(`Invalid invocation: ${String(cause.message ?? cause.kind)}`), {
    name: 'PrismaClientKnownRequestError',
    code,
    meta: { modelName: 'ApiKey', driverAdapterError: { name: 'DriverAdapterError', cause } },
  });
}

const pgError = (code: string, message: string) => Object.assign(new Error(message), { code, severity: 'FATAL' });
const prisma = (code: string, meta?: unknown) => Object.assign(new Error(`prisma ${code}`), { name: 'PrismaClientKnownRequestError', code, meta });
const adapter = (sqlState: string) => prisma('P2010', { driverAdapterError: { cause: { originalCode: sqlState } } });

const lost: [string, unknown][] = [
  ['pg_terminate_backend in a query (P2039 around 57P01)', prismaError('P2039', { originalCode: '57P01', originalMessage: 'terminating connection due to administrator command', kind: 'postgres', code: '57P01' })],
  ['pg_terminate_backend in a raw query (P2010 around 57P01)', prismaError('P2010', { originalCode: '57P01', kind: 'postgres', code: '57P01' })],
  ['a server crash (57P02)', pgError('57P02', 'terminating connection because of crash of another server process')],
  ['idle session timeout (57P05)', pgError('57P05', 'terminating connection due to idle-session timeout')],
  ['a connection failure (08006)', pgError('08006', 'connection failure')],
  ['a client already broken by a dropped connection', new Error('Client has encountered a connection error and is not queryable')],
  ['the socket closed under a query', new Error('Connection terminated unexpectedly')],
  ['a closed client', new Error('Client was closed and is not queryable')],
  ['the server closed the connection (P1017)', Object.assign(new Error('Server has closed the connection.'), { code: 'P1017' })],
  ['adapter-pg: ConnectionClosed', prismaError('P1017', { kind: 'ConnectionClosed' })],
  ['a reset socket', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET', syscall: 'read', errno: -104 })],
  ['a reset socket under a wrapper', new Error('query failed', { cause: Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }) })],
  ['a refused connection (the server is down)', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })],
];

const busyOnly: [string, unknown][] = [
  ['a transaction that could not start in time (P2028)', prisma('P2028')],
  ['no pooled connection in time (P2024)', prisma('P2024')],
  ['a serialization failure or deadlock (P2034)', prisma('P2034')],
  ['no connection slots left (P2037)', prisma('P2037')],
  ['an unreachable server (P1001)', prisma('P1001')],
  ['too_many_connections from the adapter', adapter('53300')],
  ['lock_not_available from the adapter', adapter('55P03')],
  ['a statement timeout from the adapter', adapter('57014')],
  ['a deadlock from the adapter (40P01)', prismaError('P2010', { originalCode: '40P01', code: '40P01', kind: 'postgres' })],
  ['a pg error with its SQLSTATE', Object.assign(new Error('sorry, too many clients already'), { code: '53300' })],
  ["pg-pool's connection timeout", new Error('timeout exceeded when trying to connect')],
  ["pg-pool's connection timeout, as it ends the client", new Error('Connection terminated due to connection timeout')],
  ['a busy error as the cause of another', new Error('wrapped', { cause: prisma('P2028') })],
];

const neither: [string, unknown][] = [
  ['a unique violation (P2002)', prismaError('P2002', { kind: 'UniqueConstraintViolation' })],
  ['a syntax error from the adapter', adapter('42601')],
  ['a plain error', new Error('boom')],
  ['a busy code that is not an error', 'P2028'],
  ['a missing table (42P01)', pgError('42P01', 'relation "x" does not exist')],
  ['a record not found (P2025)', Object.assign(new Error('No record was found'), { code: 'P2025' })],
  ['a defect', new TypeError("Cannot read properties of undefined (reading 'id')")],
  ['a coded error of ours', new AppError(ErrorCode.Conflict, 'This request changed while you were deciding')],
  ['a message that merely mentions a connection', new Error('the connection "prod-db" does not exist')],
  ['not an error', 'Connection terminated unexpectedly'],
  ['nothing', undefined],
];

describe('isConnectionLost', () => {
  it.each(lost)('is true for %s', (_, error) => {
    expect(isConnectionLost(error)).toBe(true);
  });
  it.each([...busyOnly, ...neither])('is false for %s', (_, error) => {
    expect(isConnectionLost(error)).toBe(false);
  });
});

describe('isDatabaseBusy', () => {
  it.each([...lost, ...busyOnly])('is true for %s', (_, error) => {
    expect(isDatabaseBusy(error)).toBe(true);
  });
  it.each(neither)('is false for %s', (_, error) => {
    expect(isDatabaseBusy(error)).toBe(false);
  });
});
