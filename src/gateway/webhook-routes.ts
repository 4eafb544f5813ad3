// The HTTP routes of custom webhooks (admins only): endpoints, their delivery log and replays.
// Registered inside the authenticated /api scope of http-server.ts; the rules live in
// src/notify/webhooks/webhook-admin.ts.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AuditContext } from '../db/audit.js';
import { CREATE_FIELDS, UPDATE_FIELDS, type WebhookAdmin } from '../notify/webhooks/webhook-admin.js';
import { decodeCursor, MAX_PAGE, pageOf, pagingParams, TIME_ID_CURSOR, type PageQuery } from './paging.js';
import { objectBody } from './request-body.js';

export interface WebhookRoutesOptions {
  webhooks: WebhookAdmin;
  auditCtx: (req: FastifyRequest) => AuditContext;
}

type IdParams = { Params: { id: string } };

/** `/webhooks`, `/webhooks/:id`, `/webhooks/:id/deliveries` and `.../deliveries/:deliveryId/replay`. */
export function registerWebhookRoutes(api: FastifyInstance, { webhooks, auditCtx }: WebhookRoutesOptions): void {
  api.post('/webhooks', async (req, reply) => reply.status(201).send(await webhooks.create(req.user!, objectBody(req, CREATE_FIELDS), auditCtx(req))));

  api.get('/webhooks', { config: { query: pagingParams(MAX_PAGE) } }, async (req) => {
    const q = req.query as PageQuery;
    const limit = q.limit ?? MAX_PAGE;
    const cursor = q.cursor ? decodeCursor('webhooks', q.cursor, TIME_ID_CURSOR) : undefined;
    const rows = await webhooks.list(req.user!, { take: limit + 1, after: cursor && { createdAt: new Date(cursor[0]), id: cursor[1] } });
    const { page, nextCursor } = pageOf('webhooks', rows, limit, (r) => [r.row.createdAt.toISOString(), r.row.id]);
    return { webhooks: page.map((r) => r.view), nextCursor };
  });

  api.get<IdParams>('/webhooks/:id', async (req) => ({ webhook: await webhooks.get(req.user!, req.params.id) }));
  api.patch<IdParams>('/webhooks/:id', async (req) => webhooks.update(req.user!, req.params.id, objectBody(req, UPDATE_FIELDS), auditCtx(req)));
  api.delete<IdParams>('/webhooks/:id', async (req) => webhooks.remove(req.user!, req.params.id, auditCtx(req)));

  api.get<IdParams>('/webhooks/:id/deliveries', { config: { query: pagingParams(50) } }, async (req) => {
    const q = req.query as PageQuery;
    const limit = q.limit ?? 50;
    const cursor = q.cursor ? decodeCursor('deliveries', q.cursor, TIME_ID_CURSOR) : undefined;
    const rows = await webhooks.deliveries(req.user!, req.params.id, { take: limit + 1, before: cursor && { createdAt: new Date(cursor[0]), id: cursor[1] } });
    const { page, nextCursor } = pageOf('deliveries', rows, limit, (r) => [r.row.createdAt.toISOString(), r.row.id]);
    return { deliveries: page.map((r) => r.view), nextCursor };
  });

  api.post<{ Params: { id: string; deliveryId: string } }>('/webhooks/:id/deliveries/:deliveryId/replay', async (req, reply) =>
    reply.status(202).send(await webhooks.replay(req.user!, req.params.id, req.params.deliveryId, auditCtx(req))),
  );
}
