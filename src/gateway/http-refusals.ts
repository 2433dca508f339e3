import { GraphQLError } from 'graphql';
import { httpStatusOfCode } from '../graphql/errors.js';
import { refusalHeaders } from '../http/admission-refusals.js';

/**
 * An HTTP answer with a JSON-RPC error body (`id: null`: it answers no request in particular), as MCP clients
 * read refusals. `data.code` carries the gateway's error code, the same as `extensions.code` on /graphql.
 */
export function jsonRpcRefusal(
  status: number,
  code: number,
  message: string,
  headers: Record<string, string> = {},
  data?: Record<string, unknown>,
): Response {
  return Response.json(
    { jsonrpc: '2.0', id: null, error: { code, message, ...(data !== undefined && { data }) } },
    { status, headers },
  );
}

/**
 * The answer to an admission error (bad key, rate limit, missing scope, no such virtual server): the status of
 * its code, a Bearer challenge with 401 (naming `resourceMetadata` when OAuth clients may sign in) and
 * `Retry-After` with 429.
 */
export function refusalOfAdmission(error: GraphQLError, resourceMetadata?: string): Response {
  const code = String(error.extensions.code);
  const status = httpStatusOfCode(code);
  return jsonRpcRefusal(
    status,
    status === 401 || status === 404 ? -32001 : -32000,
    error.message,
    refusalHeaders(error, resourceMetadata),
    {
      code,
    },
  );
}
