import { GraphQLError } from 'graphql';
import { ErrorCode } from '../graphql/errors.js';

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

/** Where an agent's key is asked for; clients read the scheme from it. */
const BEARER_CHALLENGE = 'Bearer realm="mcp-registry-gateway"';

/** The answer to an admission error (bad key, rate limit, missing scope): its status, code and headers. */
export function refusalOfAdmission(error: GraphQLError): Response {
  const code = String(error.extensions.code);
  const data = { code };
  switch (code) {
    case ErrorCode.UNAUTHENTICATED:
      return jsonRpcRefusal(401, -32001, error.message, { 'www-authenticate': BEARER_CHALLENGE }, data);
    case ErrorCode.RATE_LIMITED: {
      const retryAfter = String(error.extensions.retryAfter ?? 60);
      return jsonRpcRefusal(429, -32000, error.message, { 'retry-after': retryAfter }, data);
    }
    case ErrorCode.FORBIDDEN:
      return jsonRpcRefusal(403, -32000, error.message, {}, data);
    default:
      return jsonRpcRefusal(404, -32001, error.message, {}, data);
  }
}
