// The audit trail's checks as the API and the CLI ask for them: verify the hash chain, read its
// head. Admins only (the answers name events and their ids).
import type pg from 'pg';
import type { AuditHeadView } from '../contracts/audit.js';
import { chainHead } from '../db/audit-chain.js';
import type { AuditChainer } from '../db/audit-chainer.js';
import { verifyAuditChain } from '../db/audit-verify.js';
import type { AuditVerifyReport } from '../contracts/audit.js';

export type { AuditHeadView };

/** verify and head over the state database's pool; `chainer` links what is committed first. */
export function createAuditTrail(pool: pg.Pool, chainer: Pick<AuditChainer, 'runOnce'>) {
  return {
    /** Walks the whole chain (see src/db/audit-verify.ts). */
    verify: (expectHead?: string): Promise<AuditVerifyReport> => verifyAuditChain(pool, { expectHead }),
    /** The event count and the head hash, after linking what is committed. */
    async head(): Promise<AuditHeadView> {
      await chainer.runOnce();
      const h = await chainHead(pool);
      return { events: h ? Number(h.chainSeq) : 0, hash: h?.hash ?? null, id: h?.id ?? null };
    },
  };
}

export type AuditTrail = ReturnType<typeof createAuditTrail>;
