import { GraphQLError } from 'graphql';

/** The error codes a client can branch on; every error the API raises on purpose carries one. */
export enum ErrorCode {
  BAD_USER_INPUT = 'BAD_USER_INPUT',
  UNAUTHENTICATED = 'UNAUTHENTICATED',
  FORBIDDEN = 'FORBIDDEN',
  NOT_FOUND = 'NOT_FOUND',
  CONFLICT = 'CONFLICT',
  RATE_LIMITED = 'RATE_LIMITED',
  /** A subscription fell too far behind its events and was ended; subscribe again. */
  SUBSCRIBER_TOO_SLOW = 'SUBSCRIBER_TOO_SLOW',
  /** A server's stored credentials cannot be opened (unknown key, altered): it was not contacted. */
  CREDENTIALS_UNAVAILABLE = 'CREDENTIALS_UNAVAILABLE',
  /**
   * The gateway found no server it could send a tool call to (every candidate's circuit is OPEN), or every
   * attempt failed to reach one; `extensions.reason` says which. Retry later.
   */
  SERVICE_UNAVAILABLE = 'SERVICE_UNAVAILABLE',
  /** The client cancelled a tool call while a server had it (MCP `notifications/cancelled`). */
  CANCELLED = 'CANCELLED',
  INTERNAL_SERVER_ERROR = 'INTERNAL_SERVER_ERROR',
}

const HTTP_STATUS: Partial<Record<ErrorCode, number>> = {
  [ErrorCode.UNAUTHENTICATED]: 401,
  [ErrorCode.RATE_LIMITED]: 429,
};

/** What each error code means over plain HTTP (the MCP endpoint, /metrics, the request log). */
const HTTP_STATUS_OF_CODE: Readonly<Record<string, number>> = {
  [ErrorCode.BAD_USER_INPUT]: 400,
  BAD_REQUEST: 400,
  GRAPHQL_PARSE_FAILED: 400,
  GRAPHQL_VALIDATION_FAILED: 400,
  OPERATION_RESOLUTION_FAILURE: 400,
  PERSISTED_QUERY_NOT_FOUND: 400,
  PERSISTED_QUERY_NOT_SUPPORTED: 400,
  [ErrorCode.UNAUTHENTICATED]: 401,
  [ErrorCode.FORBIDDEN]: 403,
  [ErrorCode.NOT_FOUND]: 404,
  [ErrorCode.CONFLICT]: 409,
  [ErrorCode.RATE_LIMITED]: 429,
};

/** The HTTP status of an error code; anything unknown or internal is 500. */
export function httpStatusOfCode(code: unknown): number {
  return HTTP_STATUS_OF_CODE[String(code)] ?? 500;
}

/** An error meant for the client: its message is safe to show and says what to do. */
export class ApiError extends GraphQLError {
  /**
   * `headers` are sent with the HTTP response the error ends (Apollo reads `extensions.http`, and removes it
   * before the error reaches the client).
   */
  constructor(
    code: ErrorCode,
    message: string,
    extensions: Record<string, unknown> = {},
    headers?: ReadonlyMap<string, string>,
  ) {
    const status = HTTP_STATUS[code];
    const http = status ? { http: { status, ...(headers ? { headers: new Map(headers) } : {}) } } : {};
    super(message, { extensions: { ...extensions, code, ...http } });
    this.name = 'ApiError';
  }
}

export const badUserInput = (message: string, field?: string): ApiError =>
  new ApiError(ErrorCode.BAD_USER_INPUT, message, field ? { field } : {});

/** One answer for every kind of bad credential, so a caller cannot tell unknown from revoked or expired. */
export const unauthenticated = (): ApiError =>
  new ApiError(ErrorCode.UNAUTHENTICATED, 'A valid API key is required: send "Authorization: Bearer <key>".');

/** Over a rate limit: says which budget is spent and, in seconds, when to try again (also as `Retry-After`). */
export const rateLimited = (budget: string, retryAfterSeconds: number): ApiError =>
  new ApiError(
    ErrorCode.RATE_LIMITED,
    `Too many requests: the ${budget} rate limit is used up. Retry after ${retryAfterSeconds} s.`,
    { budget, retryAfter: retryAfterSeconds },
    new Map([['retry-after', String(retryAfterSeconds)]]),
  );

export const forbidden = (message: string): ApiError => new ApiError(ErrorCode.FORBIDDEN, message);

export const notFound = (what: string, id: string): ApiError =>
  new ApiError(ErrorCode.NOT_FOUND, `${what} ${id} was not found.`);

export const conflict = (message: string): ApiError => new ApiError(ErrorCode.CONFLICT, message);
