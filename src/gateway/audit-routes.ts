// `GET /api/audit/verify` and `GET /api/audit/head`: the audit hash chain's checks (see the README,
// "Audit trail: tamper evidence"). Admins only. verify answers 200 with `ok: false` and the
// problems when the chain is broken: the check itself worked.
import type { FastifyInstance } from 'fastify';
import { AppError, ErrorCode } from '../errors.js';
import type { AuditTrail } from '../service/audit-trail.js';

const HEX64 = /^[0-9a-f]{64}$/;

/** Registers the audit routes inside the authenticated /api scope. */
export function registerAuditRoutes(api: FastifyInstance, audit: AuditTrail): void {
  const adminOnly = (isAdmin: boolean) => {
    if (!isAdmin) throw new AppError(ErrorCode.Forbidden, 'Only an admin can check the audit trail; ask an admin of your gateway.');
  };
  api.get(
    '/audit/verify',
    { config: { query: { expectHead: { type: 'string', maxLength: 64, pattern: HEX64, hint: 'a head hash from `hoop admin audit head` or the log: 64 lowercase hex digits' } } } },
    async (req) => {
      adminOnly(req.user!.isAdmin);
      const { expectHead } = req.query as { expectHead?: string };
      return audit.verify(expectHead);
    },
  );
  api.get('/audit/head', async (req) => {
    adminOnly(req.user!.isAdmin);
    return audit.head();
  });
}
