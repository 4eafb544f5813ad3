// What the outbox tests share: a state database of their own, a Redis connection, and the queue
// prefixes and closers to clean up after the file.
import { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { createDb, type Db } from '../../src/db/client.js';
import { createStateDatabase, REDIS_URL, uniqueName } from './databases.js';
import { deleteQueues } from './gateway.js';

export interface OutboxFixture {
  state: Awaited<ReturnType<typeof createStateDatabase>>;
  db: Db;
  redis: Redis;
  /** A fresh queue prefix, its queues deleted after the file. */
  prefix(name?: string): string;
  /** Closed after the file, last first. */
  onClose(...close: (() => Promise<unknown>)[]): void;
}

/** Registers the file's set-up and clean-up; the fields are there once beforeAll ran. */
export function useOutboxFixture(options: { dbMax: number }): OutboxFixture {
  const prefixes: string[] = [];
  const closers: (() => Promise<unknown>)[] = [];
  const f = {
    prefix(name = 'outbox') {
      const p = uniqueName(name);
      prefixes.push(p);
      return p;
    },
    onClose(...close: (() => Promise<unknown>)[]) {
      closers.push(...close);
    },
  } as OutboxFixture;
  beforeAll(async () => {
    f.state = await createStateDatabase();
    f.db = createDb(f.state.url, { max: options.dbMax });
    f.redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    // A relay moves nothing while its Redis is not ready (it counts on the next tick): the tests
    // start once the connection is, or a first pass on a loaded machine finds it still connecting.
    if (f.redis.status !== 'ready') await new Promise<void>((resolve, reject) => f.redis.once('ready', resolve).once('error', reject));
  });
  afterAll(async () => {
    for (const close of closers.reverse()) await close();
    await f.db?.$disconnect();
    f.redis?.disconnect();
    for (const p of prefixes) await deleteQueues(p);
    await f.state?.drop();
  });
  return f;
}
