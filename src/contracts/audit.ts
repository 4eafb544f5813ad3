// What `GET /api/audit/verify` and `GET /api/audit/head` answer and `hoop admin audit` prints.
// Shared by the gateway and the CLI.

export type AuditProblemKind = 'changed' | 'removed' | 'inserted' | 'truncated';

export interface AuditProblem {
  kind: AuditProblemKind;
  /** The event named (absent for a removed event or a cut tail: it is not there). */
  id: string | null;
  chainSeq: string | null;
  message: string;
}

export interface AuditVerifyReport {
  ok: boolean;
  /** Chained events walked. */
  events: number;
  head: { chainSeq: string; id: string; hash: string } | null;
  /** Events not chained yet because their transactions may still be running. */
  pending: number;
  /** The first break in the chain, then any events inserted outside it, then a cut tail; empty when intact. */
  problems: AuditProblem[];
}

export interface AuditHeadView {
  /** Chained events (the head's chainSeq). */
  events: number;
  hash: string | null;
  id: string | null;
}
