// What each export writes: its columns in order, and each column's value in JSON (JSONL keeps
// arrays and objects) and in CSV (one text cell). The review export leaves `output` out unless
// asked (it can be megabytes per request); when included it is the output as stored, masked.
import { approvalProgress } from '../core/review-state.js';
import { AUDIT_EVENT_COLUMNS, type ExportedReview } from '../db/export-reads.js';

export interface ExportColumn<R> {
  name: string;
  json: (row: R) => unknown;
  /** The CSV cell, when it differs from the JSON value. */
  csv?: (row: R) => unknown;
}

type AuditRow = Record<string, unknown> & { id: bigint; createdAt: Date; detail: unknown };

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);
const asJson = (v: unknown) => (typeof v === 'bigint' ? v.toString() : v instanceof Date ? v.toISOString() : (v ?? null));

/** The hash chain's columns, written when the table has them (added by the audit chain's migration). */
const CHAIN_COLUMNS = ['chainSeq', 'prevHash', 'hash', 'txid'];

/** The audit export's columns: the event, then the chain's columns this database has. */
export function auditColumns(): ExportColumn<AuditRow>[] {
  const plain = (name: string): ExportColumn<AuditRow> => ({ name, json: (r) => asJson(r[name]) });
  return [
    { name: 'id', json: (r) => r.id.toString() },
    { name: 'createdAt', json: (r) => iso(r.createdAt) },
    ...['actor', 'actorId', 'action', 'source', 'reviewId', 'ip', 'userAgent'].map(plain),
    { name: 'detail', json: (r) => r.detail ?? null, csv: (r) => (r.detail === null || r.detail === undefined ? null : JSON.stringify(r.detail)) },
    ...CHAIN_COLUMNS.filter((c) => AUDIT_EVENT_COLUMNS.includes(c)).map(plain),
  ];
}

/** One group's decision as a CSV cell says it: `dba-team: APPROVED by dana@example.com at 2026-…`. */
function decisionText(g: ExportedReview['groups'][number]): string {
  if (g.status === 'PENDING') return `${g.group}: PENDING`;
  const who = g.reviewer?.email ?? 'unknown';
  return `${g.group}: ${g.status} by ${who}${g.decidedAt ? ` at ${g.decidedAt.toISOString()}` : ''}${g.reason ? ` (${g.reason})` : ''}`;
}

/** The review export's columns; `output` last, only when asked for. */
export function reviewColumns(withOutput: boolean): ExportColumn<ExportedReview>[] {
  const cols: ExportColumn<ExportedReview>[] = [
    { name: 'id', json: (r) => r.id },
    { name: 'connection', json: (r) => r.connection.name },
    { name: 'requester', json: (r) => r.requester.email },
    { name: 'status', json: (r) => r.status },
    { name: 'reason', json: (r) => r.reason },
    { name: 'input', json: (r) => r.input },
    { name: 'createdAt', json: (r) => iso(r.createdAt) },
    { name: 'decidedAt', json: (r) => iso(r.decidedAt) },
    { name: 'startedAt', json: (r) => iso(r.startedAt) },
    { name: 'finishedAt', json: (r) => iso(r.finishedAt) },
    {
      name: 'approvals',
      json: (r) => {
        const a = approvalProgress(r.groups);
        return `${a.approved} of ${a.total}`;
      },
    },
    {
      name: 'decisions',
      json: (r) => r.groups.map((g) => ({ group: g.group, status: g.status, reviewer: g.reviewer?.email ?? null, decidedAt: iso(g.decidedAt), reason: g.reason })),
      csv: (r) => r.groups.map(decisionText).join('; '),
    },
    { name: 'rejectReason', json: (r) => r.rejectReason },
    { name: 'rowsAffected', json: (r) => r.rowsAffected },
    { name: 'commandTags', json: (r) => r.commandTags, csv: (r) => r.commandTags.join('; ') },
    { name: 'error', json: (r) => r.error },
  ];
  if (withOutput) cols.push({ name: 'output', json: (r) => r.output ?? null }, { name: 'outputTruncated', json: (r) => r.outputTruncated });
  return cols;
}
