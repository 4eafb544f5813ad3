// Which database errors mean "busy, or the connection was lost: try again shortly" rather than a
// defect. The edges answer them 503 with Retry-After instead of 500.

// P2024: no pooled connection in time; P2028: an interactive transaction could not start or expired
// (never committed); P2034: serialization failure or deadlock (rolled back); P2037: the server has
// no connection slots left; P1001/P1002: the server could not be reached.
const BUSY_PRISMA_CODES = new Set(['P2024', 'P2028', 'P2034', 'P2037', 'P1001', 'P1002']);
// too_many_connections, configuration_limit_exceeded, cannot_connect_now, serialization_failure,
// deadlock_detected, lock_not_available, query_canceled (statement_timeout).
const BUSY_SQLSTATES = new Set(['53300', '53400', '57P03', '40001', '40P01', '55P03', '57014']);
// pg-pool's own wording when connectionTimeoutMillis runs out.
const BUSY_MESSAGES = /timeout exceeded when trying to connect|Connection terminated due to connection timeout/i;

// P1017: the server closed the connection; P1008: the socket timed out.
const LOST_PRISMA_CODES = new Set(['P1017', 'P1008']);
// admin_shutdown (pg_terminate_backend), crash_shutdown, cannot_connect_now, idle_session_timeout,
// database_dropped; class 08 is connection_exception.
const LOST_SQLSTATES = /^(?:57P0[1-5]|08[0-9A-Z]{3})$/;
// What node reports of a socket that went away.
const LOST_SOCKET_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNREFUSED', 'ETIMEDOUT', 'ECONNABORTED', 'EHOSTUNREACH', 'ENETUNREACH']);
// adapter-pg's error kinds for a lost connection.
const LOST_ADAPTER_KINDS = new Set(['ConnectionClosed', 'SocketTimeout', 'DatabaseNotReachable']);
// pg's own wording for a client whose connection died (no code on these errors).
const LOST_MESSAGES = /Connection terminated unexpectedly|Client has encountered a connection error and is not queryable|Client was closed and is not queryable|Connection terminated$|Server has closed the connection/i;

interface ErrorLike {
  code?: unknown;
  kind?: unknown;
  message?: unknown;
  meta?: { driverAdapterError?: { cause?: { originalCode?: unknown; code?: unknown; kind?: unknown } } };
  cause?: unknown;
}

/** Walks an error and its causes (Prisma wraps the driver's error, which may wrap a socket's). */
function someCause(error: unknown, test: (e: ErrorLike) => boolean): boolean {
  for (let e = error as ErrorLike | undefined, depth = 0; e && typeof e === 'object' && depth < 6; e = e.cause as ErrorLike | undefined, depth++) {
    if (test(e)) return true;
    const adapter = e.meta?.driverAdapterError?.cause;
    if (adapter && test(adapter as ErrorLike)) return true;
  }
  return false;
}

/**
 * True for an error that says our own database connection was lost (terminated by the server, a
 * restart or failover, a reset socket). A query or transaction in flight then failed; a COMMIT in
 * flight may have happened or not, so a use case that wrote must find out before answering.
 */
export function isConnectionLost(error: unknown): boolean {
  return someCause(error, (e) => {
    const code = typeof e.code === 'string' ? e.code : typeof (e as { originalCode?: unknown }).originalCode === 'string' ? (e as { originalCode: string }).originalCode : undefined;
    if (code && (LOST_PRISMA_CODES.has(code) || LOST_SQLSTATES.test(code) || LOST_SOCKET_CODES.has(code))) return true;
    if (typeof e.kind === 'string' && LOST_ADAPTER_KINDS.has(e.kind)) return true;
    return typeof e.message === 'string' && LOST_MESSAGES.test(e.message);
  });
}

/** True for an error that says our own database is busy or unreachable, not that the request is wrong. */
export function isDatabaseBusy(error: unknown): boolean {
  const busy = someCause(error, (e) => {
    const code = typeof e.code === 'string' ? e.code : typeof (e as { originalCode?: unknown }).originalCode === 'string' ? (e as { originalCode: string }).originalCode : undefined;
    if (code && (BUSY_PRISMA_CODES.has(code) || BUSY_SQLSTATES.has(code))) return true;
    return typeof e.message === 'string' && BUSY_MESSAGES.test(e.message);
  });
  return busy || isConnectionLost(error);
}
