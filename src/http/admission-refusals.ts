import type { GraphQLError } from 'graphql';
import { ErrorCode } from '../graphql/errors.js';

/** Where a key is asked for; clients read the scheme from it. */
const BEARER_CHALLENGE = 'Bearer realm="mcp-registry-gateway"';

/**
 * The headers an admission refusal carries over plain HTTP (the MCP endpoint, /metrics), whatever its body: a
 * Bearer challenge with UNAUTHENTICATED (with `resourceMetadata`, the RFC 9728 `resource_metadata` parameter
 * that tells OAuth clients where to start), `Retry-After` with RATE_LIMITED.
 */
export function refusalHeaders(error: GraphQLError, resourceMetadata?: string): Record<string, string> {
  const code = error.extensions.code;
  if (code === ErrorCode.UNAUTHENTICATED) {
    const challenge =
      resourceMetadata === undefined
        ? BEARER_CHALLENGE
        : `${BEARER_CHALLENGE}, resource_metadata="${resourceMetadata}"`;
    return { 'www-authenticate': challenge };
  }
  if (code === ErrorCode.RATE_LIMITED) return { 'retry-after': String(error.extensions.retryAfter ?? 60) };
  return {};
}
