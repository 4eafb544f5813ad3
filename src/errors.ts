/** Every error a person or a program can get from the gateway has one of these codes. */
export enum ErrorCode {
  BadInput = 'bad_input',
  Unauthenticated = 'unauthenticated',
  Forbidden = 'forbidden',
  NotFound = 'not_found',
  Conflict = 'conflict',
  WrongState = 'wrong_state',
  Expired = 'expired',
  NotInGroup = 'not_in_group',
  SelfApproval = 'self_approval',
  /** A second approval of one request by a person who already approved it for another group. */
  DistinctApprover = 'distinct_approver',
  NotLinked = 'not_linked',
  Timeout = 'timeout',
  Guardrail = 'guardrail_blocked',
  Unavailable = 'unavailable',
  RateLimited = 'rate_limited',
  TooLarge = 'too_large',
  Internal = 'internal',
}

const HTTP_STATUS: Record<ErrorCode, number> = {
  [ErrorCode.BadInput]: 400,
  [ErrorCode.Unauthenticated]: 401,
  [ErrorCode.Forbidden]: 403,
  [ErrorCode.NotInGroup]: 403,
  [ErrorCode.SelfApproval]: 403,
  [ErrorCode.DistinctApprover]: 403,
  [ErrorCode.NotLinked]: 403,
  [ErrorCode.NotFound]: 404,
  [ErrorCode.Conflict]: 409,
  [ErrorCode.WrongState]: 409,
  [ErrorCode.Expired]: 409,
  [ErrorCode.Timeout]: 408,
  [ErrorCode.Guardrail]: 422,
  [ErrorCode.Unavailable]: 503,
  [ErrorCode.RateLimited]: 429,
  [ErrorCode.TooLarge]: 413,
  [ErrorCode.Internal]: 500,
};

export interface AppErrorOptions {
  /** A sentence for the person, saying what to do next; defaults to `message`. */
  userMessage?: string;
  cause?: unknown;
  /** Extra fields of the JSON error body (e.g. the guardrail rule). */
  details?: Record<string, unknown>;
  /** Seconds after which a retry may succeed (429, 503): the HTTP edge sends it as Retry-After. */
  retryAfterSec?: number;
}

/** A coded error; only the edges (HTTP, Slack, CLI) turn it into something a person reads. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly userMessage: string;
  readonly details?: Record<string, unknown>;
  readonly retryAfterSec?: number;

  constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.userMessage = options.userMessage ?? message;
    this.details = options.details;
    this.retryAfterSec = options.retryAfterSec;
  }

  /** The HTTP status this error maps to. */
  get httpStatus(): number {
    return HTTP_STATUS[this.code];
  }

  /** The JSON body the API answers with (`retryAfter` in seconds when a retry may succeed). */
  toJSON(): { error: { code: ErrorCode; message: string } & Record<string, unknown> } {
    return { error: { code: this.code, message: this.userMessage, ...this.details, ...(this.retryAfterSec ? { retryAfter: this.retryAfterSec } : {}) } };
  }
}

/** True when `error` is an AppError (of `code`, when given). */
export function isAppError(error: unknown, code?: ErrorCode): error is AppError {
  return error instanceof AppError && (code === undefined || error.code === code);
}
