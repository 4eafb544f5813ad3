// The relay right after a commit: a job due now that this process can run is run here, not sent
// through Redis; its row is deleted once it is done, a run that asks for a retry leaves the job to
// BullMQ with that delay, a job the process does not take goes to Redis, and a delayed job always does.
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { JobName, LocalOutcome } from '../../src/jobs/definitions.js';
import { createOutboxRelay, type OutboxRelay } from '../../src/jobs/outbox-relay.js';
import { createJobQueue, queueNames } from '../../src/jobs/queues.js';
import { useOutboxFixture } from '../helpers/outbox-fixture.js';
import { eventually } from '../helpers/gateway.js';

const log = pino({ level: 'silent' });
const o = useOutboxFixture({ dbMax: 5 });

function setup(runner: (name: JobName, payload: unknown) => Promise<LocalOutcome> | null): { prefix: string; relay: OutboxRelay; ran: string[] } {
  const prefix = o.prefix('local');
  const jobs = createJobQueue(o.redis, prefix);
  const relay = createOutboxRelay({ db: o.db, jobs, redis: o.redis, queuePrefix: prefix, log });
  o.onClose(() => relay.stop(), () => jobs.close());
  const ran: string[] = [];
  relay.runLocally((name, payload) => {
    const run = runner(name, payload);
    if (run) ran.push(name);
    return run;
  });
  return { prefix, relay, ran };
}

async function queued(prefix: string): Promise<{ id: string; name: string; delay: number }[]> {
  const names = queueNames(prefix);
  const out: { id: string; name: string; delay: number }[] = [];
  for (const n of [names.reviews, names.slack]) {
    const q = new Queue(n, { connection: o.redis });
    for (const j of await q.getJobs(['waiting', 'delayed', 'prioritized'])) out.push({ id: j.id!, name: j.name, delay: j.opts.delay ?? 0 });
    await q.close();
  }
  return out;
}

const rowsOf = (prefix: string) => o.db.outboxJob.count({ where: { queuePrefix: prefix } });

describe('relaying one review right after its commit', () => {
  it('runs a job due now in-process, sends the delayed one to Redis, and leaves no row', async () => {
    const { prefix, relay, ran } = setup(() => Promise.resolve({ done: true }));
    const reviewId = randomUUID();
    await relay.write(o.db, reviewId, [
      { name: 'review.expire', payload: { reviewId }, jobId: `expire-${reviewId}`, dueAt: new Date(Date.now() + 3600_000) },
      { name: 'slack.post-review', payload: { reviewId }, jobId: `post-${reviewId}` },
    ]);
    await relay.relayReview(reviewId, 2000);
    expect(ran).toEqual(['slack.post-review']);
    expect((await queued(prefix)).map((j) => j.id)).toEqual([`expire-${reviewId}`]);
    await eventually(async () => (await rowsOf(prefix)) === 0, 5000, 'the outbox emptied');
  });

  it('hands a run that asks for a retry to BullMQ with its delay, then deletes the row', async () => {
    const { prefix, relay } = setup(() => Promise.resolve({ done: false, delayMs: 60_000 }));
    const reviewId = randomUUID();
    await relay.write(o.db, reviewId, [{ name: 'slack.post-review', payload: { reviewId }, jobId: `post-${reviewId}` }]);
    await relay.relayReview(reviewId, 2000);
    const jobs = await eventually(async () => {
      const q = await queued(prefix);
      return q.length > 0 && q;
    }, 5000, 'the retry queued');
    expect(jobs).toEqual([{ id: `post-${reviewId}`, name: 'slack.post-review', delay: 60_000 }]);
    await eventually(async () => (await rowsOf(prefix)) === 0, 5000, 'the outbox emptied');
  });

  it('sends to Redis what the process does not take, and the timer relay never runs anything in-process', async () => {
    const { prefix, relay, ran } = setup((name) => (name === 'review.execute' ? Promise.resolve({ done: true }) : null));
    const a = randomUUID();
    const b = randomUUID();
    await relay.write(o.db, a, [{ name: 'slack.post-review', payload: { reviewId: a }, jobId: `post-${a}` }]);
    await relay.write(o.db, b, [{ name: 'review.execute', payload: { reviewId: b }, jobId: `execute-${b}` }]);
    await relay.relayReview(a, 2000);
    expect(await relay.relayAll()).toBe(1);
    expect(ran).toEqual([]);
    expect((await queued(prefix)).map((j) => j.id).sort()).toEqual([`execute-${b}`, `post-${a}`].sort());
    expect(await rowsOf(prefix)).toBe(0);
  });

  it('keeps the row leased while the job runs, so no other relay sends it to Redis meanwhile', async () => {
    let finish!: (o: LocalOutcome) => void;
    const { prefix, relay } = setup(() => new Promise<LocalOutcome>((resolve) => (finish = resolve)));
    const other = createOutboxRelay({ db: o.db, jobs: createJobQueue(o.redis, prefix), redis: o.redis, queuePrefix: prefix, log });
    o.onClose(() => other.stop());
    const reviewId = randomUUID();
    await relay.write(o.db, reviewId, [{ name: 'slack.post-review', payload: { reviewId }, jobId: `post-${reviewId}` }]);
    await relay.relayReview(reviewId, 2000);
    expect(await other.relayAll()).toBe(0);
    expect(await rowsOf(prefix)).toBe(1);
    finish({ done: true });
    await eventually(async () => (await rowsOf(prefix)) === 0, 5000, 'the outbox emptied');
    expect(await queued(prefix)).toEqual([]);
  });
});
