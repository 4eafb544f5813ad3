// The outbox relay on its own: several relays over one outbox move each row to BullMQ once, a row
// whose relay died is taken over after its lease, a relay that cannot reach Redis gives its rows
// back, and rows of another queue prefix are left alone.
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { leaseOutbox } from '../../src/db/outbox.js';
import { createOutboxRelay, type OutboxEntry, type OutboxRelay } from '../../src/jobs/outbox-relay.js';
import { createJobQueue, queueNames, type JobQueue } from '../../src/jobs/queues.js';
import { useOutboxFixture } from '../helpers/outbox-fixture.js';

const log = pino({ level: 'silent' });
const o = useOutboxFixture({ dbMax: 10 });

/** A job queue of a fresh prefix that counts every enqueue by job id; `fail` makes it refuse. */
function countingQueue(prefix: string, options: { fail?: boolean } = {}): { jobs: JobQueue; adds: Map<string, number> } {
  const real = createJobQueue(o.redis, prefix);
  o.onClose(() => real.close());
  const adds = new Map<string, number>();
  return {
    adds,
    jobs: {
      async enqueue(name, payload, opts) {
        if (options.fail) throw new Error('Redis refused');
        adds.set(opts.jobId, (adds.get(opts.jobId) ?? 0) + 1);
        await real.enqueue(name, payload, opts);
      },
      remove: (name, jobId) => real.remove(name, jobId),
      close: () => real.close(),
    },
  };
}

function relayOn(prefix: string, jobs: JobQueue, leaseMs?: number): OutboxRelay {
  const relay = createOutboxRelay({ db: o.db, jobs, redis: o.redis, queuePrefix: prefix, log, batchSize: 25, leaseMs });
  o.onClose(() => relay.stop());
  return relay;
}

/** `n` expiry jobs due in an hour (nothing runs them here). */
function entries(n: number): OutboxEntry[] {
  return Array.from({ length: n }, () => {
    const reviewId = randomUUID();
    return { name: 'review.expire', payload: { reviewId }, jobId: `expire-${reviewId}`, dueAt: new Date(Date.now() + 3600_000) };
  });
}

async function delayedCount(prefix: string): Promise<number> {
  const q = new Queue(queueNames(prefix).reviews, { connection: o.redis });
  try {
    return await q.getDelayedCount();
  } finally {
    await q.close();
  }
}

const rowsOf = (prefix: string) => o.db.outboxJob.count({ where: { queuePrefix: prefix } });

function newPrefix(): string {
  const p = o.prefix('outbox');
  return p;
}

describe('relays side by side', () => {
  it('moves each of 300 rows to the queue exactly once with four relays draining at the same time', async () => {
    const prefix = newPrefix();
    const written = entries(300);
    const writer = relayOn(prefix, countingQueue(prefix).jobs);
    await writer.write(o.db, null, written);
    const counters = [1, 2, 3, 4].map(() => countingQueue(prefix));
    const relays = counters.map((c) => relayOn(prefix, c.jobs));
    await Promise.all(relays.flatMap((r) => [r.relayAll(), r.relayAll()]));
    const total = new Map<string, number>();
    for (const c of counters) for (const [id, n] of c.adds) total.set(id, (total.get(id) ?? 0) + n);
    expect(total.size).toBe(300);
    expect([...total.values()].every((n) => n === 1)).toBe(true);
    // The work was shared, not done by one relay while the others waited.
    expect(counters.filter((c) => c.adds.size > 0).length).toBeGreaterThan(1);
    expect(await rowsOf(prefix)).toBe(0);
    expect(await delayedCount(prefix)).toBe(300);
  });

  it('relays only the rows of its own queue prefix', async () => {
    const mine = newPrefix();
    const theirs = newPrefix();
    const relay = relayOn(mine, countingQueue(mine).jobs);
    await relay.write(o.db, null, entries(5));
    await relayOn(theirs, countingQueue(theirs).jobs).write(o.db, null, entries(7));
    expect(await relay.relayAll()).toBe(5);
    expect(await rowsOf(mine)).toBe(0);
    expect(await rowsOf(theirs)).toBe(7);
    expect(await delayedCount(theirs)).toBe(0);
  });
});

describe('many entries written at once', () => {
  it('stores each as written (review, payload, job id, due time), however many one transaction writes', async () => {
    const prefix = o.prefix('many');
    const { jobs } = countingQueue(prefix);
    const relay = relayOn(prefix, jobs);
    const written = entries(60).map((e, i) => ({ ...e, reviewId: (e.payload as { reviewId: string }).reviewId, ...(i % 2 ? { dueAt: undefined } : {}) }));
    await o.db.$transaction((tx) => relay.write(tx, null, written));
    const rows = await o.db.outboxJob.findMany({ where: { queuePrefix: prefix }, orderBy: { id: 'asc' } });
    expect(rows.map((r) => ({ reviewId: r.reviewId, name: r.name, payload: r.payload, jobId: r.jobId, dueAt: r.dueAt?.toISOString() ?? null }))).toEqual(
      written.map((e) => ({ reviewId: e.reviewId, name: e.name, payload: e.payload, jobId: e.jobId, dueAt: e.dueAt?.toISOString() ?? null })),
    );
  });
});

describe('a relay that fails', () => {
  it('leaves rows it could not enqueue for the next relay, at once', async () => {
    const prefix = newPrefix();
    const broken = countingQueue(prefix, { fail: true });
    const relay = relayOn(prefix, broken.jobs);
    await relay.write(o.db, null, entries(10));
    expect(await relay.relayAll()).toBe(0);
    expect(await rowsOf(prefix)).toBe(10);
    const working = countingQueue(prefix);
    expect(await relayOn(prefix, working.jobs).relayAll()).toBe(10);
    expect(working.adds.size).toBe(10);
    expect(await rowsOf(prefix)).toBe(0);
  });

  it('drops a row no retry could enqueue (unknown job, bad payload) and relays the others', async () => {
    const prefix = newPrefix();
    const counted = countingQueue(prefix);
    const relay = relayOn(prefix, counted.jobs);
    const good = entries(2);
    await relay.write(o.db, null, [good[0], { name: 'review.vanish', payload: {}, jobId: 'vanish-1' }, { name: 'review.expire', payload: { reviewId: 'not-a-uuid' }, jobId: 'expire-bad' }, good[1]]);
    expect(await relay.relayAll()).toBe(4);
    expect(await rowsOf(prefix)).toBe(0);
    expect(await delayedCount(prefix)).toBe(2);
  });

  it('has its rows taken over once its lease lapsed, and not before', async () => {
    const prefix = newPrefix();
    const relay = relayOn(prefix, countingQueue(prefix).jobs, 1000);
    await relay.write(o.db, null, entries(6));
    // A relay that leased the rows and died before enqueueing them.
    expect(await leaseOutbox(o.db, prefix, { limit: 100, leaseMs: 1000 })).toHaveLength(6);
    expect(await relay.relayAll()).toBe(0);
    expect(await rowsOf(prefix)).toBe(6);
    await new Promise((r) => setTimeout(r, 1100));
    expect(await relay.relayAll()).toBe(6);
    expect(await rowsOf(prefix)).toBe(0);
    expect(await delayedCount(prefix)).toBe(6);
  });

  it('adds a job once even when a dead relay had enqueued it before its lease lapsed', async () => {
    const prefix = newPrefix();
    const [entry] = entries(1);
    const { jobs } = countingQueue(prefix);
    const relay = relayOn(prefix, jobs, 1000);
    await relay.write(o.db, null, [entry]);
    const [row] = await leaseOutbox(o.db, prefix, { limit: 1, leaseMs: 1000 });
    await jobs.enqueue('review.expire', row.payload as { reviewId: string }, { jobId: row.jobId, delayMs: 3600_000 });
    await new Promise((r) => setTimeout(r, 1100));
    expect(await relay.relayAll()).toBe(1);
    expect(await delayedCount(prefix)).toBe(1);
  });
});
