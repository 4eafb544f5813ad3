import type { ImpactPreview } from '../contracts/impact-preview.js';
import type { RowBound } from '../core/row-bound.js';
import type { LineageJob } from '../sql/classify-inline.js';
import type { StatementLineage } from '../sql/lineage-postgres.js';
import type { MaskingRules } from '../sql/masking.js';
import type { ClassifiedStatement } from '../sql/types.js';

/** A database the gateway runs commands on. */
export interface SqlTarget {
  /** The connection's name, for messages. */
  name: string;
  url: string;
}

export interface RunOptions {
  /** Each statement's limit; an auto-run read gets this much for all its statements together. */
  statementTimeoutMs: number;
  /** Cap of the stored and returned output text. */
  outputMaxBytes: number;
  /** Rows kept per statement; the rest is counted but not rendered. */
  maxRows?: number;
  /** Masking applied to every value and message before anything is rendered or stored. */
  masking?: MaskingRules;
  /** Functions (and operators) the connection declares read-only. */
  allowFunctions?: readonly string[];
  /** The input's statements as classified (an auto-run read sends these; their tables feed column lineage). */
  statements: readonly ClassifiedStatement[];
  /**
   * Run as an auto-run read: these statements one at a time, each as a single extended-protocol
   * statement (the server refuses a second one), inside a read-only transaction that is rolled back.
   */
  readOnly?: boolean;
  /**
   * With readOnly: when the target's check finds the read is not provably one (it may write, the
   * server reads it differently, or masking cannot trace its output), run nothing and return the
   * check as `held`, for the caller to have the command reviewed.
   */
  hold?: boolean;
  /** A reviewed command waits for a connection to a busy target instead of being refused (its approval stands). */
  waitForConnection?: boolean;
  /**
   * Called with the target session (and transaction) that will run an approved command, before
   * its input is sent; when it throws, nothing is sent. Called again if the plan changes (a
   * statement that cannot run in a transaction block is then run outside one).
   */
  track?: (session: TargetSession) => Promise<void>;
  /** How long a run whose connection dropped keeps asking the target whether it committed. */
  outcomeWaitMs?: number;
  /**
   * An approved command's row bound (issue 14): it runs in one transaction, and when a statement
   * changes more rows than the bound allows, everything is rolled back (ExecutionResult.boundExceeded).
   */
  rowBound?: RowBound;
}

/**
 * The target session of an approved run, recorded before its input is sent. `transaction`: the
 * input runs in PostgreSQL transaction `xid`, whose fate the target can tell afterwards;
 * `session`: only the session is known (MySQL, or PostgreSQL statements that cannot run in a
 * transaction block).
 */
export interface TargetSession {
  mode: 'transaction' | 'session';
  /** PostgreSQL backend pid, MySQL connection id. */
  pid: string;
  /** PostgreSQL backend_start, MySQL server start: tells this session from a later one with the same id. */
  start: string;
  xid?: string;
}

/**
 * What the target says of a recorded run once its session was stopped. `committed`/`aborted`: it
 * knows; `unknown`: it cannot tell (`final`), or could not be asked yet (retry later).
 */
export type RunOutcome =
  | { kind: 'committed'; stopped: boolean }
  | { kind: 'aborted'; stopped: boolean }
  | { kind: 'unknown'; final: boolean; reason: string; stopped: boolean };

export interface ExecutionResult {
  ok: boolean;
  output: string;
  outputTruncated: boolean;
  commandTags: string[];
  /** Rows changed by INSERT/UPDATE/DELETE/MERGE/COPY, when any ran. */
  rowsAffected: number | null;
  error: string | null;
  /** Refused before anything ran (every connection to the target busy): worth retrying. */
  retryAfterSec?: number;
  /** Not run: the target's check of a read objected (RunOptions.hold). */
  held?: ReadCheck;
  /** Rolled back: it changed more rows than its approval allows (RunOptions.rowBound); the words of `error`. */
  boundExceeded?: string;
}

/** What an auto-run read's check against the target found; all empty means it may run. */
export interface ReadCheck {
  /** Names that resolve to user-defined or extension objects: the read is a write. */
  writes: string[];
  /** The server would read the text differently from the parser: the read is unknown. */
  unknown: string[];
  /** Masking cannot tell which output columns carry masked data: reviewed, output masked whole. */
  untraceable: string[];
}

/** What an impact preview is measured with (the connection's settings, issue 14). */
export interface PreviewRunOptions {
  statements: readonly ClassifiedStatement[];
  /** The classifier parsed the input (else there is no preview). */
  parsed: boolean;
  /** false: the planner's estimate only (previewMode 'estimate'). */
  dryRun: boolean;
  statementTimeoutMs: number;
  lockTimeoutMs: number;
  masking?: MaskingRules;
  allowFunctions?: readonly string[];
  /** Rows kept per statement as its sample. */
  sampleRows?: number;
}

/** Runs commands on target databases over bounded connection pools. */
export interface SqlExecutor {
  run(target: SqlTarget, input: string, options: RunOptions): Promise<ExecutionResult>;
  /** What `input` would change on the target, measured without changing anything (src/contracts/impact-preview.ts). */
  preview(target: SqlTarget, options: PreviewRunOptions): Promise<ImpactPreview>;
  /** Stops a recorded session of an approved run (if it still runs) and asks the target how the run ended. */
  outcome(target: SqlTarget, session: TargetSession): Promise<RunOutcome>;
  close(): Promise<void>;
}

/** An ExecutionResult of a command that did not run. */
export function refused(error: string, extra: Partial<ExecutionResult> = {}): ExecutionResult {
  return { ok: false, output: `ERROR:  ${error}`, outputTruncated: false, commandTags: [], rowsAffected: null, error, ...extra };
}

/** Column lineage, on the event loop or off it (the classifier's worker for large inputs). */
export type LineageFn = (job: LineageJob) => Promise<StatementLineage[] | null>;

/** A target's connection limits. */
export interface LimiterOptions {
  /** Connections to one target at a time. */
  max: number;
  /** Requests that may wait for a connection; more are refused at once. */
  maxWaiting: number;
  /** How long a request waits for a connection before it is refused. */
  waitMs: number;
}

/** What both executors are made with. */
export interface SqlExecutorOptions {
  limits: LimiterOptions;
  onPoolError?: (error: Error) => void;
  /** Column lineage; the gateway passes its classifier's, which takes large inputs off the event loop. */
  lineage?: LineageFn;
  /** How long a clean verdict of a read's check on the target is reused (READ_CHECK_CACHE_MS; 0: never). */
  readCheckCacheMs?: number;
  /** A target's pool unused this long is closed (pool-reaper.ts). */
  poolIdleCloseMs?: number;
}

/** The text of a read stopped at the time limit of its request (all its statements together). */
export function overTimeMessage(limitMs: number): string {
  return `the read took longer than ${limitMs} ms in all, the limit of a request; it was stopped`;
}

/** What a person should check on the target when the gateway cannot tell a run's outcome. */
export function checkOnTarget(name: string, session: TargetSession): string {
  if (session.xid) {
    return `Before submitting it again, ask ${name}: SELECT txid_status(${session.xid}) says 'committed' if it ran and 'aborted' if nothing was committed (it ran in session ${session.pid}, started ${session.start}).`;
  }
  return `Before submitting it again, check on ${name} whether its changes are there (it ran in session ${session.pid}).`;
}
