// MCP's operations inside the gateway (/mcp): the services the API routes call, with the same
// limits (commands and requests per person, long-poll slots), the same audit context and the
// same refusals, so an MCP tool and the API it mirrors answer alike.
import type { AuditContext } from '../db/audit.js';
import { isConnectionLost, isDatabaseBusy } from '../db/database-busy.js';
import { isAppError } from '../errors.js';
import type { Logger } from '../logger.js';
import { OperationRefused, type HoopOperations } from '../mcp/operations.js';
import type { AdminService } from '../service/admin-service.js';
import type { AuthUser, ReviewService } from '../service/review-service.js';
import type { RequestLimits } from './request-limits.js';
import { expiredAnswer, waitForReview } from './review-wait.js';
import { reviewForViewer } from './review-for-viewer.js';

export interface GatewayOperationsOptions {
  admin: AdminService;
  reviews: ReviewService;
  limits?: RequestLimits;
  /** Aborted when the gateway begins to stop: a wait answers at once. */
  stopping?: AbortSignal;
  log: Logger;
}

/** One MCP request's caller: who (from the bearer key), its audit context, and its hang-up. */
export interface McpCaller {
  user: AuthUser;
  ctx: AuditContext;
  /** Aborted when the HTTP client hangs up. */
  hangUp: AbortSignal;
  /** The user as the database has the key now (after a long wait). */
  reauthenticate: () => Promise<AuthUser>;
}

/** Most connections list_connections answers: a model's context is not the place for thousands. */
const MAX_CONNECTIONS = 500;

/** The operations of `caller` over the gateway's services. */
export function createGatewayOperations(opts: GatewayOperationsOptions, caller: McpCaller): HoopOperations {
  const { admin, reviews, limits, log } = opts;
  const { user, ctx } = caller;
  const forViewer = (row: Parameters<typeof reviewForViewer>[2]) => reviewForViewer(reviews, user, row);

  /** The services' errors as the API would word them; anything else is not a refusal (the tool logs it). */
  async function refusing<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (isAppError(error)) throw new OperationRefused(error.userMessage, error.code);
      if (isConnectionLost(error) || isDatabaseBusy(error)) {
        log.warn({ err: error }, 'MCP call: state database busy or connection lost');
        throw new OperationRefused('The gateway\'s database is busy or dropped the connection; try again in 2 s (look at your requests with get_review before resubmitting a command).', 'unavailable');
      }
      throw error;
    }
  }

  return {
    me: async () => ({ email: user.email, groups: user.groups, admin: user.isAdmin, kind: user.kind }),
    listConnections: () => refusing(() => admin.listConnections(user, { take: MAX_CONNECTIONS })),
    exec: (command) =>
      refusing(async () => {
        // As POST /api/connections/:name/exec: every command counts; anything but a read run at once counts as a request too.
        await limits?.hitCommand(user.id);
        return reviews.submit(user, { connection: command.connection, input: command.input, reason: command.reason, admit: async () => limits?.hitSubmit(user.id) }, ctx);
      }),
    getReview: (id) => refusing(async () => forViewer(await reviews.get(user, id))),
    waitReview: (id, timeoutSec, signal) =>
      refusing(async () => {
        const hangUp = signal ? AbortSignal.any([signal, caller.hangUp]) : caller.hangUp;
        const view = forViewer(await waitForReview({ reviews, limits, stopping: opts.stopping }, user, id, timeoutSec * 1000, hangUp, caller.reauthenticate));
        if (view.status === 'EXPIRED') throw new OperationRefused(expiredAnswer(view).error.message, expiredAnswer(view).error.code);
        return view;
      }),
    requestAccess: ({ connection, duration, reason }) =>
      refusing(() => reviews.requestAccess(user, { connection, duration, reason, admit: async () => limits?.hitSubmit(user.id) }, ctx)),
    acceptCorrection: (id) => refusing(async () => forViewer(await reviews.acceptCorrection(user, id, ctx))),
    classify: (connection, input) =>
      refusing(async () => {
        // Rate-limited as a command: it classifies as much SQL as an exec does.
        await limits?.hitCommand(user.id);
        return reviews.classify(user, { connection, input });
      }),
  };
}
