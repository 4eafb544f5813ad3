import type { MaskingRules } from '../sql/masking.js';

export interface ExecuteOptions {
  statementTimeoutMs: number;
  /** Cap of the stored and returned output text. */
  outputMaxBytes: number;
  /** Rows kept per statement; the rest is counted but not rendered. */
  maxRows?: number;
  /** Masking applied to every value before anything is rendered or stored. */
  masking?: MaskingRules;
  /**
   * Run these statements one by one inside BEGIN READ ONLY (then roll back) instead of `input` as
   * one query: a classifier mistake cannot write, and `COMMIT; DELETE ...` cannot escape.
   */
  readOnlyStatements?: readonly string[];
}

export interface ExecutionResult {
  ok: boolean;
  output: string;
  outputTruncated: boolean;
  commandTags: string[];
  /** Rows changed by INSERT/UPDATE/DELETE/MERGE/COPY, when any ran. */
  rowsAffected: number | null;
  error: string | null;
}
