// The MCP tools of hoop, one list for both servers (`hoop mcp` over stdio, /mcp on the gateway):
// their JSON schemas, the descriptions a model reads to use them, and how each answer is shaped.
// Every tool calls the HoopOperations port; a refusal of the gateway is a tool result with
// `isError: true` in the gateway's own words, never a failure of the server. Nothing here can
// approve anything: every command that needs review still waits for a person.
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { ConnectionView } from '../contracts/connection-view.js';
import type { ReviewView } from '../contracts/review-view.js';
import { OperationRefused, type CallerView, type HoopOperations } from './operations.js';

/** Longest wait_review wait, in seconds: MCP clients time a tool call out after a few minutes. */
export const MAX_WAIT_SEC = 300;
export const DEFAULT_WAIT_SEC = 60;

/** What the server tells a client's model when it connects (MCP's initialize `instructions`). */
export const SERVER_INSTRUCTIONS =
  'hoop is an approval gateway for production databases. Find a connection with list_connections; check a command with classify_sql; run it with exec. Reads may run at once; anything else waits until a person in each reviewer group approves it: exec then answers "pending" with a reviewId, and wait_review waits for the decision and the result. You cannot approve anything yourself. Always give a reason: the reviewers read it.';

/** The names of the tools, in the order they are listed. */
export const TOOL_NAMES = ['list_connections', 'exec', 'wait_review', 'get_review', 'classify_sql', 'request_access', 'accept_correction'] as const;

const OPEN = new Set(['PENDING', 'APPROVED', 'RUNNING']);

/** The reviewer groups that have not approved yet. */
function waitingOn(view: ReviewView): string[] {
  return view.groups.filter((g) => g.status === 'PENDING').map((g) => g.group);
}

/** What the caller may do on a connection, by the rules the gateway applies. */
function connectionFor(c: ConnectionView, me: CallerView) {
  const reviewed = c.reviewers.length > 0 && c.reviewMode !== 'none';
  // The core approves an admin's own request as it is made; everyone else's waits for the groups.
  const withoutReview = !reviewed || me.admin ? 'everything' : c.reviewMode === 'writes' ? 'reads' : 'nothing';
  return {
    name: c.name,
    type: c.type,
    reviewMode: c.reviewMode,
    reviewerGroups: c.reviewers,
    guardrails: c.guardrails.map((g) => ({ name: g.name, message: g.message })),
    masked: { columns: c.maskColumns, detectors: c.maskDetectors },
    // Just-in-Time access: "jit" runs a command only inside an open access window of its requester.
    access: { mode: c.accessMode, maxWindowSec: c.maxAccessSec, agentsMayAsk: c.jitAgents },
    youMay: {
      exec: true,
      runsWithoutReview: withoutReview,
      // Agents never decide (the core refuses their votes); people decide for their groups.
      approve: me.kind === 'person' && c.reviewers.some((g) => me.groups.includes(g)),
    },
  };
}

/** A review as a tool answers it: its state, who still has to approve, and the result once run. */
export function reviewResult(view: ReviewView) {
  const base = { reviewId: view.id, status: view.status.toLowerCase(), connection: view.connection };
  if (view.status === 'PENDING' && view.correction && !view.correction.accepted) {
    // A reviewer changed the command: it runs only once its requester accepts the change.
    const who = view.requesterKind === 'agent' ? `Your owner (${view.requesterOwner ?? 'the person who owns this agent'}) must accept it: an agent cannot` : `If it does what you meant, call accept_correction with reviewId "${view.id}"`;
    return { ...base, waitingOn: waitingOn(view), expiresAt: view.expiresAt, correction: view.correction, next: `A reviewer changed your command (see correction.diff). ${who}; it then runs once every group has approved it. Call wait_review to wait.` };
  }
  if (view.status === 'REJECTED' && view.correctedBy) {
    const accept = view.requesterKind === 'agent' ? `its acceptance is for your owner (${view.requesterOwner ?? 'the person who owns this agent'}), not for you` : 'accept it with accept_correction if it does what you meant';
    return { ...base, rejectReason: view.rejectReason, correctedBy: view.correctedBy, next: `A reviewer changed it into request "${view.correctedBy}": read it with get_review; ${accept}.` };
  }
  if (view.status === 'PENDING') {
    const what = view.kind === 'access' ? 'the decision' : 'the decision and the result';
    return { ...base, waitingOn: waitingOn(view), expiresAt: view.expiresAt, next: `A person must approve it. Call wait_review with reviewId "${view.id}" to wait for ${what}.` };
  }
  if (view.status === 'APPROVED' || view.status === 'RUNNING') {
    return { ...base, next: `Approved; it is running. Call wait_review with reviewId "${view.id}" for the result.` };
  }
  if (view.status === 'REJECTED') {
    const by = view.groups.find((g) => g.status === 'REJECTED');
    return { ...base, rejectedBy: by?.reviewer ?? null, rejectReason: view.rejectReason, next: 'It will not run. Do not resubmit it unchanged; ask the reviewer what they need.' };
  }
  if (view.status === 'GRANTED' || view.status === 'ENDED') {
    // An access request (Just-in-Time access): a window, not a command.
    const next = view.status === 'GRANTED' ? `Granted until ${view.access?.endsAt}: your commands on ${view.connection} run without a per-command review until then (exec as usual).` : 'The window is over; ask again with request_access if you still need it.';
    return { ...base, kind: view.kind, access: view.access, next };
  }
  if (view.status === 'EXPIRED') {
    return { ...base, expiredAt: view.decidedAt ?? view.expiresAt, next: 'Nobody decided in time; it did not run. Resubmit it if it is still needed.' };
  }
  // EXECUTED or FAILED: the result, masked as the gateway masks every output. A read that ran at
  // once is stored as no request (only in the audit trail): it has no reviewId to look up.
  const ranAtOnce = view.readOnly && view.groups.length === 0;
  return {
    ...(ranAtOnce ? { status: base.status, connection: base.connection, ranAtOnce: true } : base),
    readOnly: view.readOnly,
    rowsAffected: view.rowsAffected,
    commandTags: view.commandTags,
    output: view.output,
    outputTruncated: view.outputTruncated,
    error: view.error,
    // Ran without its own review, under this access window.
    ...(view.grantId ? { grantId: view.grantId } : {}),
  };
}

/** A review with who asked and why, for get_review and wait_review. */
function reviewDetail(view: ReviewView) {
  return {
    ...reviewResult(view),
    requester: view.requester,
    requesterKind: view.requesterKind,
    requesterOwner: view.requesterOwner,
    reason: view.reason,
    input: view.input,
    approvals: view.approvals,
    groups: view.groups.map((g) => ({ group: g.group, status: g.status.toLowerCase(), reviewer: g.reviewer, decidedAt: g.decidedAt, reason: g.reason })),
    createdAt: view.createdAt,
    ...(view.kind === 'access' ? { kind: view.kind, access: view.access } : {}),
    // A correction: of which request, by whom, why, the diff, and whether it was accepted.
    ...(view.correction ? { correction: view.correction } : {}),
    ...(view.correctedBy ? { correctedBy: view.correctedBy } : {}),
  };
}

function ok(value: Record<string, unknown>): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(value, null, 2) }], structuredContent: value };
}

function refused(message: string): CallToolResult {
  return { content: [{ type: 'text', text: message }], isError: true };
}

/**
 * Runs a tool: its answer, a refusal in the gateway's words, or (anything else: a bug, a lost
 * connection) a sentence that says to try again; `onUnexpected` logs it where the server logs.
 */
async function answer(run: () => Promise<Record<string, unknown>>, onUnexpected: (error: unknown) => void): Promise<CallToolResult> {
  try {
    return ok(await run());
  } catch (error) {
    if (error instanceof OperationRefused) return refused(error.message);
    // The client cancelled the call (or hung up): nobody reads this answer, and nothing failed.
    if ((error as Error)?.name === 'AbortError') return refused('Cancelled.');
    onUnexpected(error);
    return refused('The gateway failed to handle this call; it is logged. Try again, and tell an admin if it persists.');
  }
}

const connectionArg = z.string().max(63).describe('The connection\'s name, as list_connections gives it, e.g. "prod-db".');
const inputArg = z.string().describe('The SQL to run: one or more statements, exactly as they should run (up to 1 MiB).');
const reviewIdArg = z.string().max(100).describe('The reviewId that exec answered.');

export interface RegisterToolsOptions {
  /** Called with an error that is not a refusal of the gateway (logged by the caller). */
  onUnexpected?: (error: unknown) => void;
}

/** Registers hoop's tools on `server`, each calling `ops`. */
export function registerTools(server: McpServer, ops: HoopOperations, options: RegisterToolsOptions = {}): void {
  const onUnexpected = options.onUnexpected ?? (() => {});

  server.registerTool(
    'list_connections',
    {
      title: 'List database connections',
      description:
        'Lists the database connections you may use: name, database type, review mode, the reviewer groups that approve commands, the guardrails that block commands outright, and what you may do there (youMay.runsWithoutReview: "reads" means reads run at once and everything else waits for a person; "nothing" means every command waits; "everything" means commands run at once). Call this first to find the connection name for exec.',
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    () =>
      answer(async () => {
        const [me, connections] = await Promise.all([ops.me(), ops.listConnections()]);
        return { you: { email: me.email, kind: me.kind, groups: me.groups }, connections: connections.map((c) => connectionFor(c, me)) };
      }, onUnexpected),
  );

  server.registerTool(
    'exec',
    {
      title: 'Run SQL through the approval gateway',
      description:
        'Submits SQL to a connection. Reads that the connection lets run at once come back with their result (status "executed", ranAtOnce: true, output masked as configured). Anything else is held for human review: the answer is {status: "pending", reviewId, waitingOn: [groups that must approve], expiresAt}; then call wait_review with the reviewId. You cannot approve your own requests. A guardrail refuses some commands outright, with its reason; a connection whose access mode is "jit" runs commands only inside an open access window. Give a reason every time: the reviewers read it, and agents are refused without one.',
      inputSchema: {
        connection: connectionArg,
        input: inputArg,
        reason: z.string().max(2000).optional().describe('Why this command is needed (a ticket, the problem it fixes): shown to the reviewers. Required for agents.'),
      },
      annotations: { destructiveHint: true, idempotentHint: false, openWorldHint: false },
    },
    ({ connection, input, reason }) => answer(async () => reviewResult(await ops.exec({ connection, input, reason })), onUnexpected),
  );

  server.registerTool(
    'wait_review',
    {
      title: 'Wait for a review and its result',
      description: `Waits until a person approves or rejects the request (and an approved command has run), or until timeoutSec passes; answers the review as it then stands: "executed"/"failed" with the result, "rejected" with the reason, or still "pending" (call wait_review again). An expired request is an error: it did not run. timeoutSec is at most ${MAX_WAIT_SEC} (default ${DEFAULT_WAIT_SEC}).`,
      inputSchema: {
        reviewId: reviewIdArg,
        timeoutSec: z
          .number()
          .int('Give whole seconds: not a whole number')
          .min(0, `Give 0 to ${MAX_WAIT_SEC} seconds: negative`)
          .max(MAX_WAIT_SEC, `Wait at most ${MAX_WAIT_SEC} seconds per call (call wait_review again to wait longer): too long`)
          // The SDK words a refusal as "<message> at timeoutSec".
          .optional()
          .describe(`Seconds to wait, 0 to ${MAX_WAIT_SEC}; default ${DEFAULT_WAIT_SEC}.`),
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    ({ reviewId, timeoutSec }, extra) =>
      answer(async () => {
        const view = await ops.waitReview(reviewId, timeoutSec ?? DEFAULT_WAIT_SEC, extra.signal);
        return { ...reviewDetail(view), ...(OPEN.has(view.status) ? { stillWaiting: true } : {}) };
      }, onUnexpected),
  );

  server.registerTool(
    'get_review',
    {
      title: 'Show a review',
      description: 'Shows a request now, without waiting: its status, who asked and why, each reviewer group\'s decision, and the result once it has run.',
      inputSchema: { reviewId: reviewIdArg },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    ({ reviewId }) => answer(async () => reviewDetail(await ops.getReview(reviewId)), onUnexpected),
  );

  server.registerTool(
    'classify_sql',
    {
      title: 'Check how SQL would be treated',
      description:
        'Says, without running or submitting anything, how the gateway would treat SQL on a connection: each statement\'s kind (read, write, ddl...), tables and warnings; a guardrail that would block it (blockedBy); and the route: "read-only" (runs at once), "direct" (runs at once without review), "review" (held until each of groups approves) or "blocked". Use it to tell the user up front that a command will wait for a person.',
      inputSchema: { connection: connectionArg, input: inputArg },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    ({ connection, input }) => answer(async () => ({ ...(await ops.classify(connection, input)) }), onUnexpected),
  );

  server.registerTool(
    'request_access',
    {
      title: 'Ask for a time window of access to a connection',
      description:
        'Asks for Just-in-Time access: a window (e.g. "30m", "2h") on a connection whose access mode is "jit" or "both" (list_connections: access.mode), during which your commands there run without a per-command review (guardrails and masking still apply). A person in each reviewer group must approve it: the answer is {status: "pending", reviewId, waitingOn, expiresAt}; call wait_review with the reviewId, which answers status "granted" with access.endsAt once approved. Agents may ask only where the connection allows it (access.agentsMayAsk). Give the reason the reviewers will read.',
      inputSchema: {
        connection: connectionArg,
        duration: z.string().max(20).describe('How long: "30m", "2h", "1h30m" (at most the connection\'s access.maxWindowSec).'),
        reason: z.string().min(1).max(2000).describe('Why the window is needed (the incident or ticket): shown to the reviewers.'),
      },
      annotations: { destructiveHint: false, idempotentHint: false, openWorldHint: false },
    },
    ({ connection, duration, reason }) => answer(async () => reviewDetail(await ops.requestAccess({ connection, duration, reason })), onUnexpected),
  );

  server.registerTool(
    'accept_correction',
    {
      title: 'Accept a change a reviewer made to your request',
      description:
        "A reviewer may change your command instead of only rejecting it: your request is then rejected (get_review shows correctedBy) and the corrected command is a new request in your name, which runs only once you accept it and every reviewer group approved it. Read its correction.diff with get_review first; accept only a change that does what you meant. Then call wait_review for the result. An agent's key is always refused: a change to an agent's request is accepted by the agent's owner, a person.",
      inputSchema: { reviewId: reviewIdArg },
      annotations: { destructiveHint: true, idempotentHint: false, openWorldHint: false },
    },
    ({ reviewId }) => answer(async () => reviewDetail(await ops.acceptCorrection(reviewId)), onUnexpected),
  );
}
