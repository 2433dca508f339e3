import { SdkError, SdkErrorCode } from '@modelcontextprotocol/client';

/** What one exchange with an MCP server found. The values are those of the health check history. */
export type McpProbeOutcome = 'ok' | 'timeout' | 'unreachable' | 'auth_failed' | 'protocol_error';
export type McpFailureOutcome = Exclude<McpProbeOutcome, 'ok'>;

/** A server-side problem met while talking to an MCP server, already classified. */
export class McpInspectionError extends Error {
  constructor(
    readonly outcome: McpFailureOutcome,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'McpInspectionError';
  }
}

/**
 * What the HTTP layer (recorded by the session's fetch) or the STDIO child process saw during one session.
 * The SDK reports the same facts differently per transport and era (an `SdkHttpError` status, an
 * `SseError` code, a message wrapping the socket error's text, a bare "Connection closed"), so
 * classification reads them here instead.
 */
export interface WireTrace {
  /** The last non-2xx status the server answered with. */
  httpStatus?: number;
  /** Why the last request that never got an answer failed at the network level (refused, DNS, reset). */
  networkError?: string;
  /** STDIO: the child wrote something on stdout that is not a JSON-RPC message. */
  invalidOutput?: boolean;
  /** STDIO: the child's output closed (it exited) while the session was still using it. */
  exited?: boolean;
  /** STDIO: the end of what the child wrote on stderr, to say why it exited. */
  stderrTail?: string;
}

/** Gateway statuses: something in front of the server says it cannot be reached. */
const UNAVAILABLE_STATUSES = new Set([502, 503, 504]);
const MAX_DETAIL_LENGTH = 300;

/** Turns whatever a failed session threw into an outcome and a message a user can act on. */
export function classifyFailure(
  error: unknown,
  trace: WireTrace,
  deadline: { readonly signal: AbortSignal; readonly timeoutMs: number },
): McpInspectionError {
  if (error instanceof McpInspectionError) return error;
  const cause = { cause: error };
  const spawnFailure = spawnFailureOf(error);
  if (spawnFailure !== undefined) {
    return new McpInspectionError('unreachable', `could not start: ${spawnFailure}`, cause);
  }
  // Before the deadline: a child that keeps writing something else than JSON-RPC is never answered.
  if (trace.invalidOutput) {
    return new McpInspectionError(
      'protocol_error',
      'protocol error: the command wrote something on stdout that is not a JSON-RPC message',
      cause,
    );
  }
  if (deadline.signal.aborted || (error instanceof SdkError && error.code === SdkErrorCode.RequestTimeout)) {
    return new McpInspectionError('timeout', `no answer within ${deadline.timeoutMs} ms`, cause);
  }
  if (trace.exited) {
    const stderr = trace.stderrTail ? `: ${detailOf(trace.stderrTail)}` : ' (nothing on stderr)';
    return new McpInspectionError('unreachable', `the command exited before answering${stderr}`, cause);
  }
  const status = trace.httpStatus;
  if (status === 401 || status === 403) {
    return new McpInspectionError('auth_failed', `authentication failed (HTTP ${status})`, cause);
  }
  if (trace.networkError !== undefined) {
    return new McpInspectionError('unreachable', `unreachable: ${trace.networkError}`, cause);
  }
  if (status !== undefined && UNAVAILABLE_STATUSES.has(status)) {
    return new McpInspectionError('unreachable', `unreachable: the endpoint answered HTTP ${status}`, cause);
  }
  return new McpInspectionError('protocol_error', `protocol error: ${detailOf(error)}`, cause);
}

/** The innermost useful message of a network error: `connect ECONNREFUSED 127.0.0.1:80` over `fetch failed`. */
export function networkErrorDetail(error: unknown): string {
  let current = error;
  while (current instanceof Error && current.cause instanceof Error) current = current.cause;
  return detailOf(current);
}

const SPAWN_HINTS: Record<string, string> = { ENOENT: 'command not found', EACCES: 'permission denied' };

/** `ENOENT (command not found): mcp-files` for the error of a child process that could not be spawned. */
function spawnFailureOf(error: unknown): string | undefined {
  for (let current = error; current instanceof Error; current = current.cause) {
    const { code, syscall, path } = current as NodeJS.ErrnoException;
    if (typeof code === 'string' && syscall?.startsWith('spawn')) {
      const hint = SPAWN_HINTS[code];
      return `${code}${hint ? ` (${hint})` : ''}: ${path ?? syscall.slice('spawn '.length)}`;
    }
  }
  return undefined;
}

// SDK messages can embed whole validation reports; one line of bounded length is enough to act on.
function detailOf(error: unknown): string {
  const text = (error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' ').trim();
  return text.length > MAX_DETAIL_LENGTH ? `${text.slice(0, MAX_DETAIL_LENGTH)}…` : text;
}

const REDACTED = '[redacted]';
// Parts this short are words ("Bearer", "Basic"), not secrets worth garbling a message for.
const MIN_SECRET_PART_LENGTH = 8;

/**
 * The error without the credentials sent to the server: a server may echo a header it rejected in its
 * error body, and the message is stored in the health history and shown to API clients. When something was
 * removed the cause (which holds the server's own text) is dropped as well.
 */
export function withoutSecrets(
  error: McpInspectionError,
  headers: Readonly<Record<string, string>> | null,
): McpInspectionError {
  const secrets = new Set<string>();
  for (const value of Object.values(headers ?? {})) {
    const trimmed = value.trim();
    if (trimmed !== '') secrets.add(trimmed);
    for (const part of trimmed.split(/\s+/)) if (part.length >= MIN_SECRET_PART_LENGTH) secrets.add(part);
  }
  let message = error.message;
  const longestFirst = [...secrets].sort((a, b) => b.length - a.length);
  for (const secret of longestFirst) message = message.split(secret).join(REDACTED);
  // A detail cut at its maximum length may end in the first characters of a secret.
  if (message.endsWith('…')) {
    const body = message.slice(0, -1);
    const cut = longestFirst
      .flatMap((secret) =>
        Array.from({ length: secret.length - 1 }, (_, index) => secret.slice(0, index + 1)),
      )
      .filter((prefix) => prefix.length >= 4 && body.endsWith(prefix))
      .sort((a, b) => b.length - a.length)[0];
    if (cut !== undefined) message = `${body.slice(0, -cut.length)}${REDACTED}…`;
  }
  return message === error.message ? error : new McpInspectionError(error.outcome, message);
}
