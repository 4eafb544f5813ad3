// GET /api/audit/export (admins) and GET /api/reviews/export (what the caller may see): JSONL or
// CSV, streamed as it is read (see service/export-service.ts). Registered inside the authenticated
// /api scope of http-server.ts; every parameter is checked by query-params.ts like the other routes'.
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ReviewStatus } from '../core/review-state.js';
import type { AuditContext } from '../db/audit.js';
import { AppError, ErrorCode } from '../errors.js';
import { CONTENT_TYPES, type ExportFormat } from '../export/export-stream.js';
import { CONNECTION_NAME } from '../service/admin-service.js';
import type { ExportBody, ExportService } from '../service/export-service.js';
import { EMAIL } from '../service/user-fields.js';

export interface ExportRoutesOptions {
  exports: ExportService;
  auditCtx: (req: FastifyRequest) => AuditContext;
  /** Aborted when the gateway begins a graceful stop: open exports are cut then (and audited as cut) rather than holding the stop up. */
  stopping?: AbortSignal;
}

const STATUSES = ['pending', 'approved', 'running', 'executed', 'failed', 'rejected', 'expired', 'granted', 'ended'] as const;
/** A date, or a date and time with its zone (Z or ±hh:mm): a time without a zone would mean the server's. */
const ISO_TIME = /^\d{4}-\d\d-\d\d(T\d\d:\d\d(:\d\d(\.\d{1,3})?)?(Z|[+-]\d\d:\d\d))?$/;
const ACTIONS = /^[a-z0-9_.-]+(,[a-z0-9_.-]+)*$/i;

const common = {
  format: { type: 'enum', values: ['jsonl', 'csv'] },
  from: { type: 'string', maxLength: 40, pattern: ISO_TIME, hint: 'an ISO time, inclusive, e.g. 2026-01-01 or 2026-01-01T00:00:00Z' },
  to: { type: 'string', maxLength: 40, pattern: ISO_TIME, hint: 'an ISO time, exclusive, e.g. 2026-02-01T00:00:00Z' },
  connection: { type: 'string', maxLength: 63, pattern: CONNECTION_NAME, hint: "a connection's name, e.g. prod-db" },
  requester: { type: 'string', maxLength: 254, pattern: EMAIL, hint: "the requester's email, e.g. alice@example.com" },
} as const;

type CommonQuery = { format?: ExportFormat; from?: string; to?: string; connection?: string; requester?: string };

/** The time range of a checked query; BadInput for a date that does not exist or a range that ends before it starts. */
function rangeOf(q: CommonQuery): { from?: Date; to?: Date } {
  const at = (name: 'from' | 'to') => {
    const text = q[name];
    if (text === undefined) return undefined;
    const d = new Date(text);
    // Date accepts 2026-02-30 (as March 2nd): the date part must survive the round trip.
    if (Number.isNaN(d.getTime()) || (text.length === 10 && d.toISOString().slice(0, 10) !== text)) {
      throw new AppError(ErrorCode.BadInput, `"${text}" in "${name}" is not a date that exists; give an ISO time such as 2026-01-31 or 2026-01-31T12:00:00Z.`);
    }
    return d;
  };
  const from = at('from');
  const to = at('to');
  if (from && to && from >= to) throw new AppError(ErrorCode.BadInput, `"from" (${q.from}) is not before "to" (${q.to}); give a range that starts before it ends.`);
  return { from, to };
}

/** `20260101T000000Z`: a time for a file name (no colons). */
const stamp = (d: Date) => d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');

function send(reply: FastifyReply, what: string, range: { from?: Date; to?: Date }, format: ExportFormat, body: ExportBody, stopping?: AbortSignal) {
  const name = `hoop-${what}-${range.from ? stamp(range.from) : 'start'}-${stamp(range.to ?? new Date())}.${format === 'csv' ? 'csv' : 'jsonl'}`;
  reply.header('content-type', CONTENT_TYPES[format]);
  reply.header('content-disposition', `attachment; filename="${name}"`);
  reply.header('cache-control', 'no-store');
  // Readable.from asks for the next chunk only when the socket has taken the last one (fastify pipes
  // it: backpressure), and is destroyed when the client hangs up, which ends the reading.
  const stream = Readable.from(body.chunks, { objectMode: false });
  if (stopping) {
    const cut = () => stream.destroy(new Error('the gateway is stopping'));
    if (stopping.aborted) cut();
    else {
      stopping.addEventListener('abort', cut, { once: true });
      stream.once('close', () => stopping.removeEventListener('abort', cut));
    }
  }
  return reply.send(stream);
}

/** `GET /audit/export` and `GET /reviews/export`. */
export function registerExportRoutes(api: FastifyInstance, { exports, auditCtx, stopping }: ExportRoutesOptions): void {
  const auditQuery = {
    ...common,
    action: { type: 'string', maxLength: 2000, pattern: ACTIONS, repeatable: true, hint: 'audit action names, repeated or comma-separated, e.g. review.approved,review.rejected' },
  } as const;
  api.get('/audit/export', { config: { query: auditQuery } }, async (req, reply) => {
    const q = req.query as CommonQuery & { action?: string };
    const range = rangeOf(q);
    const format = q.format ?? 'jsonl';
    const actions = q.action ? [...new Set(q.action.split(','))] : undefined;
    const body = await exports.audit(req.user!, { ...range, connection: q.connection, requester: q.requester, actions }, format, auditCtx(req));
    return send(reply, 'audit', range, format, body, stopping);
  });

  const reviewQuery = { ...common, status: { type: 'enum', values: STATUSES }, include: { type: 'list', values: ['output'] } } as const;
  api.get('/reviews/export', { config: { query: reviewQuery } }, async (req, reply) => {
    const q = req.query as CommonQuery & { status?: string; include?: string[] };
    const range = rangeOf(q);
    const format = q.format ?? 'jsonl';
    const filter = { ...range, connection: q.connection, requester: q.requester, status: q.status?.toUpperCase() as ReviewStatus | undefined };
    const body = await exports.reviews(req.user!, filter, q.include?.includes('output') ?? false, format, auditCtx(req));
    return send(reply, 'reviews', range, format, body, stopping);
  });
}
