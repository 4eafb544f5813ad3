// GET /api/events: the web app's live updates as server-sent events. Every review change any
// process publishes (src/service/review-events.ts) is checked against each open stream's user with
// the same visibility rule as GET /api/reviews/:id, and sent as `event: review` with the review's
// id and status; the page then re-reads what it shows through the API. Changes are gathered for a
// moment and loaded once per process for all streams, so a burst costs one query, not one per tab.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Db } from '../db/client.js';
import { getReviewsAccess } from '../db/reviews.js';
import { AppError, ErrorCode } from '../errors.js';
import type { AuthUser } from '../service/auth-user.js';
import { visibleTo } from '../service/review-access.js';
import type { ReviewEvents } from '../service/review-events.js';
import { countLiveStreamCut } from '../metrics.js';

export interface ReviewStreamOptions {
  db: Db;
  events: ReviewEvents;
  /** The request's user as the database has it now (a revoked session ends the stream). */
  reauthenticate(req: FastifyRequest): Promise<AuthUser>;
  /** Aborted when the gateway stops: every stream ends (browsers reconnect to another replica). */
  stopping?: AbortSignal;
  /** Open streams per user and process. */
  maxPerUser?: number;
  /** How long changes are gathered before they are loaded and sent. */
  batchMs?: number;
  heartbeatMs?: number;
  /** How often each stream's session is checked again (its user's groups and active flag are read at every batch). */
  recheckMs?: number;
}

/** What may wait unsent for one stream before it is cut (about 11,000 events). */
const MAX_UNSENT_BYTES = 1024 * 1024;

/** Changed reviews remembered while a batch loads; beyond this, pages re-read everything instead. */
const MAX_PENDING = 10_000;

interface Stream {
  user: AuthUser;
  send(event: string, data: unknown): void;
  end(): void;
}

export function registerReviewStream(api: FastifyInstance, opts: ReviewStreamOptions): void {
  const { db, events } = opts;
  const maxPerUser = opts.maxPerUser ?? 8;
  const batchMs = opts.batchMs ?? 150;
  const streams = new Set<Stream>();
  const perUser = new Map<string, number>();
  let pending = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let unsubscribe: (() => void) | undefined;

  // One batch loads at a time: while the database is slow, changes gather in `pending` (at most
  // MAX_PENDING ids; past that the pages are told to re-read everything) instead of each batch
  // holding a connection of the pool the whole gateway shares.
  let loading = false;
  let overflowed = false;
  const flush = async () => {
    timer = undefined;
    if (loading) return;
    loading = true;
    try {
      await load();
    } finally {
      loading = false;
      if (pending.size && streams.size) timer ??= setTimeout(() => void flush(), batchMs);
    }
  };

  const load = async () => {
    const resync = overflowed;
    overflowed = false;
    const ids = [...pending];
    pending = new Set();
    if (!ids.length || !streams.size) return;
    let rows: Awaited<ReturnType<typeof getReviewsAccess>>;
    let people: Map<string, { active: boolean; isAdmin: boolean; groups: string[] }>;
    try {
      // The streams' people as they are now, in the same one round of queries: groups taken away
      // or a deactivation apply to the very next batch, not at the next minute's recheck.
      const userIds = [...new Set([...streams].map((s) => s.user.id))];
      const [found, users] = await Promise.all([getReviewsAccess(db, ids), db.user.findMany({ where: { id: { in: userIds } }, select: { id: true, active: true, isAdmin: true, groups: true } })]);
      rows = found;
      people = new Map(users.map((u) => [u.id, u]));
    } catch {
      // Pages also re-read on their own when they reconnect; a lost batch only delays them.
      overflowed ||= resync;
      return;
    }
    for (const s of streams) {
      const now = people.get(s.user.id);
      if (!now?.active) {
        s.send('signed-out', {});
        s.end();
        continue;
      }
      s.user = { ...s.user, isAdmin: now.isAdmin, groups: now.groups };
      if (resync) s.send('ready', {});
      for (const row of rows) if (visibleTo(s.user, row)) s.send('review', { id: row.id, status: row.status });
    }
  };

  const onChange = (reviewId: string) => {
    if (!streams.size) return;
    if (pending.size >= MAX_PENDING) overflowed = true;
    else pending.add(reviewId);
    timer ??= setTimeout(() => void flush(), batchMs);
  };

  opts.stopping?.addEventListener('abort', () => {
    for (const s of streams) s.end();
  });

  api.get('/events', async (req, reply) => {
    const user = req.user!;
    const open = perUser.get(user.id) ?? 0;
    if (open >= maxPerUser) {
      throw new AppError(ErrorCode.RateLimited, `You have ${open} live streams open on this gateway, the most it keeps per person. Close some of the web app's tabs.`, { retryAfterSec: 30 });
    }
    if (opts.stopping?.aborted) throw new AppError(ErrorCode.Unavailable, 'The gateway is stopping; connect again in a moment.', { retryAfterSec: 2 });
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      ...(reply.getHeaders() as Record<string, string>),
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      // Proxies such as nginx would hold events back to fill a buffer.
      'x-accel-buffering': 'no',
    });
    let ended = false;
    // A client that stops reading (a hung tab, a hostile script) would have every later event kept
    // in memory for it: past MAX_UNSENT_BYTES the stream is cut, and a browser reconnects and re-reads.
    const write = (chunk: string) => {
      if (ended) return;
      if (raw.writableLength > MAX_UNSENT_BYTES) {
        ended = true;
        cleanup();
        raw.destroy();
        countLiveStreamCut();
        return;
      }
      raw.write(chunk);
    };
    const stream: Stream = {
      user,
      send(event, data) {
        write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      },
      end() {
        if (ended) return;
        ended = true;
        cleanup();
        raw.end();
      },
    };
    const heartbeat = setInterval(() => write(': keep-alive\n\n'), opts.heartbeatMs ?? 25_000);
    const recheck = setInterval(() => {
      opts.reauthenticate(req).then(
        (fresh) => (stream.user = fresh),
        () => {
          stream.send('signed-out', {});
          stream.end();
        },
      );
    }, opts.recheckMs ?? 60_000);
    const cleanup = () => {
      clearInterval(heartbeat);
      clearInterval(recheck);
      if (streams.delete(stream)) {
        const n = (perUser.get(user.id) ?? 1) - 1;
        if (n <= 0) perUser.delete(user.id);
        else perUser.set(user.id, n);
      }
      if (!streams.size && unsubscribe) {
        unsubscribe();
        unsubscribe = undefined;
      }
    };
    raw.on('close', () => {
      ended = true;
      cleanup();
    });
    streams.add(stream);
    perUser.set(user.id, open + 1);
    unsubscribe ??= events.onAny(onChange);
    // A browser reconnects after 3 s; `ready` tells the page to re-read what it may have missed.
    write('retry: 3000\n\n');
    stream.send('ready', {});
  });
}
