// Review of i10 (channels as plug-ins): a Teams channel anyone in the team can read must show no
// more of a restricted connection's result than Slack's withheld message does (nothing but "done").
// The error of a failed command is output too: PostgreSQL quotes the values it could not use.
import { describe, expect, it } from 'vitest';
import { withheldResultMessage } from '../../src/bot/review-blocks.js';
import type { ReviewView } from '../../src/contracts/review-view.js';
import { teamsCard } from '../../src/notify/teams/teams-card.js';
import { sampleReviewView } from '../helpers/review-view-sample.js';

const PUBLIC = 'https://hoop.example.com';

/** A run of a command on a restricted connection that has finished. */
const finished = (over: Partial<ReviewView>): ReviewView =>
  sampleReviewView({
    connection: 'payroll',
    input: 'UPDATE staff SET grade = (SELECT salary FROM payroll WHERE name = $$ceo$$) WHERE id = 2',
    status: 'FAILED',
    classification: null,
    groups: [{ group: 'dba', status: 'APPROVED', reviewer: 'bob@example.com', reviewerSlackId: null, decidedAt: '2026-11-30T10:01:00.000Z', reason: null, maxRows: null }],
    approvals: { approved: 1, total: 1 },
    decidedAt: '2026-11-30T10:01:00.000Z',
    startedAt: '2026-11-30T10:01:01.000Z',
    finishedAt: '2026-11-30T10:01:02.000Z',
    ...over,
  });

const shown = (v: ReviewView) => JSON.stringify(teamsCard(v.status === 'EXECUTED' ? 'review.executed' : 'review.failed', v, { publicUrl: PUBLIC, withholdOutput: true }));

describe('the Teams result card of a connection restricted to some groups', () => {
  // Errors PostgreSQL raises with the data they choke on (the message itself, not a DETAIL line).
  const leaks: [string, string][] = [
    ['invalid input syntax for type integer: "185000-ceo-salary"', '185000-ceo-salary'],
    ['invalid input value for enum grade: "diagnosis:hiv-positive"', 'hiv-positive'],
    ['invalid input syntax for type uuid: "4111111111111111"', '4111111111111111'],
    ['invalid input syntax for type boolean: "terminated-2026-12-01"', 'terminated-2026-12-01'],
  ];
  for (const [error, secret] of leaks) {
    it(`shows no part of the error "${error}" (Slack's withheld message shows none)`, () => {
      const v = finished({ status: 'FAILED', error });
      expect(JSON.stringify(withheldResultMessage(v))).not.toContain(secret);
      expect(shown(v)).not.toContain(secret);
    });
  }

  it('shows no row count of a read (how many rows matched is data too)', () => {
    const v = finished({ status: 'EXECUTED', input: "SELECT 1 FROM patients WHERE name = 'Ann Smith' AND diagnosis = 'x'", commandTags: ['SELECT 1'], rowsAffected: 1, output: '?column?\n1' });
    expect(JSON.stringify(withheldResultMessage(v))).not.toMatch(/1 row|SELECT 1"/);
    expect(shown(v)).not.toMatch(/1 row affected|\(SELECT 1\)/);
  });
});
