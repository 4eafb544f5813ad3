// The HTTP routes of users and API keys after creation: read and update a user, and list, create and
// revoke keys. Registered inside the authenticated /api scope of http-server.ts; the rules
// (who may do what, validation, audit) live in the user service.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AuditContext } from '../db/audit.js';
import type { AdminService } from '../service/admin-service.js';
import { KEY_FIELDS, UPDATE_FIELDS } from '../service/user-service.js';
import { objectBody } from './request-body.js';

export interface UserRoutesOptions {
  admin: AdminService;
  /** Who acts and from where, as every other route records it. */
  auditCtx: (req: FastifyRequest) => AuditContext;
}

type UserParams = { Params: { user: string } };

/** `GET|PATCH /users/:user`, `GET|POST /users/:user/keys`, `GET /me/keys`, `DELETE /keys/:id`; `:user` is an id or an email. */
export function registerUserRoutes(api: FastifyInstance, { admin, auditCtx }: UserRoutesOptions): void {
  api.get<UserParams>('/users/:user', async (req) => ({ user: await admin.getUser(req.user!, req.params.user) }));
  api.patch<UserParams>('/users/:user', async (req) => ({ user: await admin.updateUser(req.user!, req.params.user, objectBody(req, UPDATE_FIELDS), auditCtx(req)) }));

  api.get<UserParams>('/users/:user/keys', async (req) => ({ keys: await admin.listKeys(req.user!, req.params.user) }));
  api.post<UserParams>('/users/:user/keys', async (req, reply) => reply.status(201).send(await admin.createKey(req.user!, req.params.user, objectBody(req, KEY_FIELDS), auditCtx(req))));
  api.get('/me/keys', async (req) => ({ keys: await admin.myKeys(req.user!) }));

  // The row stays (revoked, with its last use) so lists and the audit trail can still name it.
  api.delete<{ Params: { id: string } }>('/keys/:id', async (req) => ({ key: await admin.revokeKey(req.user!, req.params.id, auditCtx(req)) }));
}
