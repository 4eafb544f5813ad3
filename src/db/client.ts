import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient } from './generated/client.ts';
import type { Prisma } from './generated/client.ts';

export type Db = InstanceType<typeof PrismaClient>;
export type Tx = Prisma.TransactionClient;
export { Prisma };

export interface DbOptions {
  /** Pooled connections of this process. */
  max?: number;
  /**
   * How long an interactive transaction waits for a pooled connection. Prisma's 2 s default made a
   * burst of 100 submits fail with 500s while a lock was held; waiting longer queues the burst in
   * the pool, and what still times out is answered 503 with Retry-After (see database-busy.ts).
   */
  txMaxWaitMs?: number;
  /** Told of every connection the server dropped (terminated, restarted, failed over). */
  onConnectionError?: (error: Error) => void;
}

/**
 * The pool under Prisma, built here rather than by adapter-pg so that every connection has an
 * 'error' listener for its whole life. pg-pool takes its own listener off a client when it hands
 * the client out and adapter-pg adds one only around transactions: a server that drops the
 * connection in between (pg_terminate_backend, a restart, a failover: a FATAL 57P01 arriving in
 * the same read as the last answer, just as the client is handed to the next waiter) raised an
 * 'error' event nobody listened to, which ends the process. With a listener the dropped client
 * fails the query that uses it (answered 503, see database-busy.ts) and the pool opens a new one.
 */
export function createStatePool(databaseUrl: string, options: Pick<DbOptions, 'max' | 'onConnectionError'> = {}, session: { synchronousCommit?: boolean } = {}): pg.Pool {
  const report = options.onConnectionError ?? (() => {});
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: options.max ?? 10,
    connectionTimeoutMillis: 10_000,
    ...(session.synchronousCommit === false ? { options: '-c synchronous_commit=off' } : {}),
  });
  pool.on('error', report);
  pool.on('connect', (client) => client.on('error', report));
  return pool;
}

const pools = new WeakMap<Db, pg.Pool>();

/** A Prisma client over adapter-pg (no native query engine), on a pool that survives dropped connections. */
export function createDb(databaseUrl: string, options: DbOptions = {}): Db {
  const pool = createStatePool(databaseUrl, options);
  const adapter = new PrismaPg(pool, { disposeExternalPool: true });
  const db = new PrismaClient({ adapter, transactionOptions: { maxWait: options.txMaxWaitMs ?? 10_000 } });
  pools.set(db, pool);
  return db;
}

/**
 * The pool under `db`, for the few statements on the hottest path that are one round trip in SQL
 * and several through Prisma (src/db/read-audit.ts). Closed with `db`.
 */
export function statePoolOf(db: Db): pg.Pool {
  const pool = pools.get(db);
  if (!pool) throw new Error('this Prisma client was not made by createDb');
  return pool;
}
