import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from './generated/client.ts';
import type { Prisma } from './generated/client.ts';

export type Db = InstanceType<typeof PrismaClient>;
export type Tx = Prisma.TransactionClient;
export { Prisma };

/** A Prisma client over adapter-pg (no native query engine). */
export function createDb(databaseUrl: string, options: { max?: number } = {}): Db {
  const adapter = new PrismaPg({ connectionString: databaseUrl, max: options.max ?? 10 });
  return new PrismaClient({ adapter });
}
