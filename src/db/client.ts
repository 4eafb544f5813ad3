import { PrismaPg } from '@prisma/adapter-pg';
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
}

/** A Prisma client over adapter-pg (no native query engine). */
export function createDb(databaseUrl: string, options: DbOptions = {}): Db {
  const adapter = new PrismaPg({ connectionString: databaseUrl, max: options.max ?? 10 });
  return new PrismaClient({ adapter, transactionOptions: { maxWait: options.txMaxWaitMs ?? 10_000 } });
}
