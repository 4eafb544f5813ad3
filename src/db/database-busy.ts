// Which database errors mean "busy, nothing was done, try again shortly" rather than a defect.
// The edges answer them 503 with Retry-After instead of 500.

// P2024: no pooled connection in time; P2028: an interactive transaction could not start or expired
// (never committed); P2034: serialization failure or deadlock (rolled back); P2037: the server has
// no connection slots left; P1001/P1002: the server could not be reached.
const BUSY_PRISMA_CODES = new Set(['P2024', 'P2028', 'P2034', 'P2037', 'P1001', 'P1002']);
// too_many_connections, configuration_limit_exceeded, cannot_connect_now, serialization_failure,
// deadlock_detected, lock_not_available, query_canceled (statement_timeout).
const BUSY_SQLSTATES = new Set(['53300', '53400', '57P03', '40001', '40P01', '55P03', '57014']);
// pg-pool's own wording when connectionTimeoutMillis runs out.
const BUSY_MESSAGES = /timeout exceeded when trying to connect|Connection terminated due to connection timeout/i;

interface ErrorLike {
  code?: unknown;
  message?: unknown;
  meta?: { driverAdapterError?: { cause?: { originalCode?: unknown } } };
  cause?: unknown;
}

/** True for an error that says our own database is busy or unreachable, not that the request is wrong. */
export function isDatabaseBusy(error: unknown): boolean {
  for (let e = error as ErrorLike | undefined, depth = 0; e && typeof e === 'object' && depth < 5; e = e.cause as ErrorLike | undefined, depth++) {
    if (typeof e.code === 'string' && (BUSY_PRISMA_CODES.has(e.code) || BUSY_SQLSTATES.has(e.code))) return true;
    const sqlState = e.meta?.driverAdapterError?.cause?.originalCode;
    if (typeof sqlState === 'string' && BUSY_SQLSTATES.has(sqlState)) return true;
    if (typeof e.message === 'string' && BUSY_MESSAGES.test(e.message)) return true;
  }
  return false;
}
