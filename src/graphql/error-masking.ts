import type { ApolloServerPlugin } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import { GraphQLError, type GraphQLFormattedError, Kind } from 'graphql';
import type { Logger } from '../logger.js';
import type { GraphQLContext } from './context.js';
import { ApiError, ErrorCode } from './errors.js';

/** Codes Apollo itself assigns to request errors (parse, validation, variable coercion): safe to pass on. */
const REQUEST_ERROR_CODES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'BAD_REQUEST',
  'OPERATION_RESOLUTION_FAILURE',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
]);

function isRequestError(code: unknown): boolean {
  return typeof code === 'string' && REQUEST_ERROR_CODES.has(code);
}

// graphql-js stops coercing variables after 50 errors with this error, which names no variable.
const TOO_MANY_VARIABLE_ERRORS =
  'Too many errors processing variables, error limit reached. Execution aborted.';

/**
 * The code of an error that graphql-js or Apollo raise for a bad request without giving it one: variable
 * coercion errors (which Apollo codes only up to graphql-js's error limit, and graphql-ws never), and the
 * errors Apollo answers with HTTP 400 (persisted query version or hash). `null` for anything else.
 */
function uncodedRequestErrorCode(error: unknown): ErrorCode | 'BAD_REQUEST' | null {
  if (!(error instanceof GraphQLError) || error.extensions.code !== undefined) return null;
  const nodes = error.nodes ?? [];
  if (nodes.length === 1 && nodes[0]?.kind === Kind.VARIABLE_DEFINITION) return ErrorCode.BAD_USER_INPUT;
  if (nodes.length === 0 && error.message === TOO_MANY_VARIABLE_ERRORS) return ErrorCode.BAD_USER_INPUT;
  const http = error.extensions.http as { status?: unknown } | undefined;
  if (error.originalError === undefined && http?.status === 400) return 'BAD_REQUEST';
  return null;
}

const INTERNAL_MESSAGE = 'Something went wrong on our side. Quote the requestId when you report it.';

const SUGGESTION = / ?Did you mean(.+?)\?$/;
// graphql-js spells it "more that" (16.x) or "more than".
const TOO_MANY_TOKENS = /Document contains more th(?:an|at) \d+ tokens/;

export interface ErrorFormatOptions {
  /**
   * Without introspection, "Did you mean …?" would still spell out field, type and enum names to anyone who
   * guesses close enough: it is cut from every error (validation, variables, execution).
   */
  readonly hideSuggestions: boolean;
  /** Named on the parse error graphql-js raises for too many tokens, like the other limits. */
  readonly maxTokens: number;
}

export type ErrorFormatter = (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;

/**
 * Errors raised on purpose (ApiError) and request errors reach the client as they are; anything else is
 * masked, so no stack trace, SQL or driver message ever leaves the process. It works on the formatted copy
 * only: errors out of compiled execution are frozen, and an error is never changed in place.
 */
export function createErrorFormatter(options: ErrorFormatOptions): ErrorFormatter {
  return (formatted, error) => {
    const original = unwrapResolverError(error);
    const code = formatted.extensions?.code;
    if (original instanceof ApiError || isRequestError(code)) {
      const { stacktrace: _stacktrace, ...extensions } = formatted.extensions ?? {};
      return readable({ ...formatted, extensions }, options);
    }
    const requestErrorCode = uncodedRequestErrorCode(original);
    if (requestErrorCode !== null) {
      const { stacktrace: _stacktrace, http: _http, ...extensions } = formatted.extensions ?? {};
      return readable({ ...formatted, extensions: { ...extensions, code: requestErrorCode } }, options);
    }
    return {
      message: INTERNAL_MESSAGE,
      locations: formatted.locations,
      path: formatted.path,
      extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR },
    };
  };
}

/** A client-bound error without suggestions (when hidden), and with the token limit named. */
function readable(formatted: GraphQLFormattedError, options: ErrorFormatOptions): GraphQLFormattedError {
  const message = options.hideSuggestions ? formatted.message.replace(SUGGESTION, '') : formatted.message;
  const extensions = TOO_MANY_TOKENS.test(message)
    ? { ...formatted.extensions, limit: 'MAX_TOKENS', max: options.maxTokens }
    : formatted.extensions;
  return { ...formatted, message, extensions };
}

/** Logs unexpected errors with the request id, and gives that id to the client in masked errors. */
export function requestIdPlugin(log: Logger): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart({ contextValue }) {
      return {
        async didEncounterErrors({ errors, operationName }) {
          for (const error of errors) {
            const original = unwrapResolverError(error);
            if (original instanceof ApiError || isRequestError(error.extensions?.code)) continue;
            if (uncodedRequestErrorCode(original) !== null) continue;
            log.error(
              {
                requestId: contextValue.requestId,
                operationName,
                err: original instanceof Error ? original : String(original),
              },
              'unexpected error while executing a GraphQL request',
            );
          }
        },
        async willSendResponse({ response }) {
          if (response.body.kind !== 'single') return;
          const errors = response.body.singleResult.errors;
          if (!errors) return;
          response.body.singleResult.errors = errors.map((error) =>
            error.extensions?.code === ErrorCode.INTERNAL_SERVER_ERROR
              ? { ...error, extensions: { ...error.extensions, requestId: contextValue.requestId } }
              : error,
          );
        },
      };
    },
  };
}

/**
 * The errors of a result delivered outside Apollo (graphql-ws), formatted as Apollo formats them over HTTP:
 * masked unless meant for the client, and unexpected ones logged and given the request id.
 */
export function formatErrorsOutsideApollo(
  errors: readonly GraphQLError[],
  requestId: string,
  log: Logger,
  formatError: ErrorFormatter,
): GraphQLFormattedError[] {
  return errors.map((error) => {
    // graphql-ws wraps what a subscription's stream throws in a GraphQLError with neither path nor nodes: the
    // thrown error is the one to format (an ApiError such as SUBSCRIBER_TOO_SLOW keeps its code). Variable
    // errors also have a cause but point at their variable definition, and are formatted as they are.
    const wrapped = error.path === undefined && error.nodes === undefined ? error.originalError : undefined;
    const source = wrapped instanceof GraphQLError ? wrapped : error;
    const formatted = formatError(source.toJSON(), source);
    if (formatted.extensions?.code !== ErrorCode.INTERNAL_SERVER_ERROR) return formatted;
    const original =
      source.path === undefined ? (source.originalError ?? source) : unwrapResolverError(source);
    log.error(
      { requestId, err: original instanceof Error ? original : String(original) },
      'unexpected error while executing a GraphQL operation over graphql-ws',
    );
    return { ...formatted, extensions: { ...formatted.extensions, requestId } };
  });
}
