// What GET /api/analytics answers; the CLI and the web app read the same shape. Times are seconds.

/** Mean, median and 90th percentile of a time to decision; null when nothing was decided. */
export interface DecisionTimes {
  decided: number;
  meanSec: number | null;
  medianSec: number | null;
  p90Sec: number | null;
}

/** Requests created in one bucket of time, by what became of them. */
export interface OutcomeCounts {
  requests: number;
  /** Approved by reviewers (whatever happened to the run after). */
  approved: number;
  /** Approved as they were made: an admin's own, no reviewers, review mode none, a read run read-only. */
  automatic: number;
  rejected: number;
  expired: number;
  pending: number;
  executed: number;
  failed: number;
  /** approved / (approved + rejected): the requests reviewers decided; null when they decided none. */
  approvalRate: number | null;
}

export interface AnalyticsView {
  from: string;
  to: string;
  connection: string | null;
  /** The size of the outcome buckets: an hour when the range is three days or less. */
  bucket: 'hour' | 'day' | 'week';
  timeToDecision: {
    overall: DecisionTimes;
    byConnection: ({ connection: string } & DecisionTimes)[];
    /** Each reviewer group: its decision's time since the request was made. */
    byGroup: ({ group: string } & DecisionTimes)[];
  };
  totals: OutcomeCounts;
  outcomes: ({ at: string } & OutcomeCounts)[];
  topRequesters: { requester: string; requests: number; approved: number; rejected: number; approvalRate: number | null }[];
  /** fingerprint null: requests made before patterns were recorded ("(not fingerprinted)"). */
  commonCommands: { fingerprint: string | null; requests: number; sample: string }[];
  /** Now, whatever the range: the requests still waiting and the one waiting longest. */
  pending: { count: number; oldest: { id: string; connection: string; createdAt: string; ageSec: number } | null };
}
