// "What would the gateway do with this command?" — the submit use case's first half (classify,
// guardrails, route), with nothing stored, run or audited. Agents ask it before they exec
// (MCP classify_sql) so they can say up front that a command will wait for a person.
import { accessModeOf, jitOnlyRefusal } from '../core/access-window.js';
import type { Clock } from '../core/ports.js';
import { createReview } from '../core/review-state.js';
import { canUseConnection } from '../core/access.js';
import { checkGuardrails, routeCommand } from '../core/sql-policy.js';
import type { ClassifyView } from '../contracts/classify-view.js';
import type { Db } from '../db/client.js';
import { findOpenGrant } from '../db/open-grants.js';
import { AppError, ErrorCode } from '../errors.js';
import type { Classifier } from '../sql/classifier.js';
import type { AuthUser } from './auth-user.js';
import { classifyFor, guardrailsOf, reviewModeOf } from './connection-policy.js';
import { actorOf } from './review-access.js';
import { DEFAULT_MAX_STATEMENTS, MAX_INPUT_BYTES, summarize } from './submit-command.js';

export interface ClassifyCommandOptions {
  db: Db;
  classifier: Classifier;
  maxStatements?: number;
  /** The time an open access window is judged at. */
  clock: Clock;
}

const READ_NOTE =
  'Reads run at once only after the database itself confirms them: a function or operator it resolves to something that writes, or output masking cannot trace, still holds the read for review.';

/** How `user`'s command would be treated on `connection` now (NotFound for one they may not use, as submit says). */
export function createClassifyCommand(opts: ClassifyCommandOptions) {
  const maxStatements = opts.maxStatements ?? DEFAULT_MAX_STATEMENTS;
  return async function classifyCommand(user: AuthUser, input: { connection: string; input: string }): Promise<ClassifyView> {
    const text = input.input ?? '';
    // The same refusals, in the same words, as a submit of this input.
    if (text.trim() === '') throw new AppError(ErrorCode.BadInput, 'The command is empty. Pass the SQL to classify, e.g. {"input": "SELECT 1"}.');
    if (Buffer.byteLength(text) > MAX_INPUT_BYTES) throw new AppError(ErrorCode.BadInput, `The command is larger than ${MAX_INPUT_BYTES} bytes; split it into smaller requests.`);
    const connection = await opts.db.connection.findUnique({ where: { name: input.connection } });
    if (!connection || !canUseConnection(user, connection)) {
      throw new AppError(ErrorCode.NotFound, `There is no connection named "${input.connection}". List the connections with GET /api/connections (hoop admin get connections).`);
    }
    const classification = await classifyFor(opts.classifier, connection, text, maxStatements);
    if (classification.tooManyStatements !== undefined) {
      throw new AppError(ErrorCode.BadInput, `The command has ${classification.tooManyStatements} statements; at most ${maxStatements} are accepted in one request (MAX_STATEMENTS_PER_REQUEST). Split it into several requests.`);
    }
    const summary = summarize(classification);
    const violation = checkGuardrails(classification, guardrailsOf(connection));
    if (violation) {
      const { rule, statement } = violation;
      return { connection: connection.name, classification: summary, blockedBy: { rule: rule.name, message: rule.message, statement: statement.index }, route: 'blocked', groups: [], note: 'Submitting it would be refused; no request would be made.' };
    }
    const route = routeCommand(classification, reviewModeOf(connection), connection.reviewers.length > 0);
    if (route === 'read-only') return { connection: connection.name, classification: summary, blockedBy: null, route, groups: [], note: READ_NOTE };
    const now = opts.clock.now();
    // Just-in-Time access, as submit decides it: an open window of the caller's skips the review;
    // where the connection takes only windows, a command without one is refused.
    const accessMode = accessModeOf(connection);
    const grant = route === 'review' && accessMode !== 'command' ? await findOpenGrant(opts.db, user.id, connection.id, now) : null;
    if (route === 'review' && !grant && accessMode === 'jit' && !user.isAdmin) {
      const refusal = jitOnlyRefusal(connection.name);
      return { connection: connection.name, classification: summary, blockedBy: { rule: 'access-window-required', message: refusal.message, statement: 0 }, route: 'blocked', groups: [], note: 'Submitting it would be refused; no request would be made.' };
    }
    // The core decides who must approve (an admin's own request is approved as it is made).
    const noReviewBecause = grant ? 'access-grant' : route === 'direct' && connection.reviewers.length > 0 ? 'review-mode-none' : undefined;
    const made = createReview({ requester: actorOf(user), reviewerGroups: connection.reviewers, now, timeoutSec: 60, noReviewBecause, distinctApprovers: connection.distinctApprovers });
    if (made.state.status !== 'PENDING') {
      const why = grant
        ? `it would run under your access window ${grant.id}, open until ${grant.accessEndsAt.toISOString()}`
        : made.directReason === 'admin-own-request'
          ? "it would be approved as it is made (an admin's own request)"
          : 'it would run at once without review';
      return { connection: connection.name, classification: summary, blockedBy: null, route: 'direct', groups: [], note: `No review: ${why}.` };
    }
    return { connection: connection.name, classification: summary, blockedBy: null, route: 'review', groups: made.state.groups.map((g) => g.group), note: `Held until each of ${made.state.groups.map((g) => g.group).join(', ')} approves; it expires if nobody decides in time.` };
  };
}
