// A review as the API shows it (ReviewView), for tests that render one: a pending UPDATE on prod-db
// with one of two groups approved; `over` changes what a test is about.
import type { ReviewView } from '../../src/contracts/review-view.js';

export const SAMPLE_REVIEW_ID = '0b7c6a3e-1f2d-4c5b-9a8e-7d6c5b4a3f2e';

export function sampleReviewView(over: Partial<ReviewView> = {}): ReviewView {
  return {
    id: SAMPLE_REVIEW_ID,
    connection: 'prod-db',
    requester: 'ann@example.com',
    requesterSlackId: null,
    requesterKind: 'person',
    requesterOwner: null,
    origin: null,
    kind: 'command',
    access: null,
    grantId: null,
    input: "UPDATE users SET status = 'off' WHERE id = 2",
    reason: 'ticket OPS-12',
    status: 'PENDING',
    autoApproved: false,
    readOnly: false,
    classification: { dialect: 'postgres', parsed: true, kind: 'write', statements: [{ index: 0, kind: 'write', command: 'UPDATE', tables: ['users'], warnings: [] }] },
    groups: [
      { group: 'dba', status: 'APPROVED', reviewer: 'bob@example.com', reviewerSlackId: null, decidedAt: '2026-11-30T10:01:00.000Z', reason: null, maxRows: null },
      { group: 'sec', status: 'PENDING', reviewer: null, reviewerSlackId: null, decidedAt: null, reason: null, maxRows: null },
    ],
    approvals: { approved: 1, total: 2 },
    preview: null,
    rejectReason: null,
    correction: null,
    correctedBy: null,
    createdAt: '2026-11-30T10:00:00.000Z',
    expiresAt: '2026-11-30T11:00:00.000Z',
    decidedAt: null,
    startedAt: null,
    finishedAt: null,
    output: null,
    outputTruncated: false,
    commandTags: [],
    rowsAffected: null,
    error: null,
    ...over,
  };
}
