import type { ApolloServerPlugin } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
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

const INTERNAL_MESSAGE = 'Something went wrong on our side. Quote the requestId when you report it.';

/**
 * Errors raised on purpose (ApiError) and request errors reach the client as they are; anything else is
 * masked, so no stack trace, SQL or driver message ever leaves the process.
 */
export function formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const original = unwrapResolverError(error);
  const code = formatted.extensions?.code;
  if (original instanceof ApiError || isRequestError(code)) {
    const { stacktrace: _stacktrace, ...extensions } = formatted.extensions ?? {};
    return { ...formatted, extensions };
  }
  return {
    message: INTERNAL_MESSAGE,
    locations: formatted.locations,
    path: formatted.path,
    extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR },
  };
}

/**
 * The errors of a result sent over a websocket, formatted as `formatError` formats them over HTTP. graphql-ws
 * wraps what a subscription's stream throws in a GraphQLError without a path: the thrown error is the one to
 * format. Errors with neither a path nor a cause come from checking the request (variables that do not fit
 * the operation): BAD_USER_INPUT, as Apollo says over HTTP.
 */
export function formatResultErrors(errors: readonly GraphQLError[]): GraphQLFormattedError[] {
  return errors.map((error) => {
    const source =
      error.path === undefined && error.originalError instanceof GraphQLError ? error.originalError : error;
    const formatted = source.toJSON();
    if (source.path === undefined && source.originalError === undefined) {
      const code = formatted.extensions?.code ?? 'BAD_USER_INPUT';
      return formatError({ ...formatted, extensions: { ...formatted.extensions, code } }, source);
    }
    return formatError(formatted, source);
  });
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
