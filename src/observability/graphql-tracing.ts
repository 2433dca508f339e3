import type { ApolloServerPlugin } from '@apollo/server';
import { type Context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_URL_PATH,
} from '@opentelemetry/semantic-conventions';
import type { NextFunction, Request, Response } from 'express';
import { type ExecutionArgs, type ExecutionResult, getOperationAST } from 'graphql';
import { ATTR, inSpan, startServerSpan, withContext } from './spans.js';

// A GraphQL operation over HTTP is one SERVER span, a child of the caller's trace when its request carries a
// W3C `traceparent`. The middleware opens it around everything Apollo does for the request (admission, the
// operation, its SQL and MCP calls); the plugin names it once the operation is known and records its errors.
// Both are installed only when tracing is on. Batched requests are refused, so one request is one operation.

/** Name of an operation's span until (unless) Apollo resolves which operation it is. */
const UNRESOLVED = 'GraphQL Operation';

/** Express middleware for `/graphql`: the request's span, active while Apollo handles it; ended with the response. */
export function graphqlTracingMiddleware() {
  return (req: Request, res: Response, next: NextFunction): void => {
    const { span, context } = startServerSpan(UNRESOLVED, req.headers, {
      [ATTR_HTTP_REQUEST_METHOD]: req.method,
      [ATTR_URL_PATH]: req.originalUrl.split('?')[0],
    });
    res.once('close', () => {
      span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, res.statusCode);
      span.end();
    });
    withContext(context, next);
  };
}

/** Names the active span `<type> <name>` (the conventions' form) and records the operation's errors. */
export function graphqlTracingPlugin(): ApolloServerPlugin {
  return {
    async requestDidStart() {
      const span = trace.getActiveSpan();
      if (span === undefined) return;
      return {
        async didResolveOperation({ operation, operationName }) {
          const type = operation?.operation;
          if (type === undefined) return;
          span.updateName(operationName ? `${type} ${operationName}` : type);
          span.setAttribute(ATTR.GRAPHQL_OPERATION_TYPE, type);
          if (operationName) span.setAttribute(ATTR.GRAPHQL_OPERATION_NAME, operationName);
        },
        async didEncounterErrors({ errors }) {
          for (const error of errors) span.recordException(error.originalError ?? error);
          const code = errors[0]?.extensions.code;
          span.setAttribute(ATTR_ERROR_TYPE, typeof code === 'string' ? code : 'INTERNAL_SERVER_ERROR');
          span.setStatus({ code: SpanStatusCode.ERROR, message: errors[0]?.message });
        },
      };
    },
  };
}

/**
 * A GraphQL operation over graphql-ws as one SERVER span, in the trace its socket was opened in (`parent`: the
 * connection params' or the upgrade request's `traceparent`). A subscription's span covers starting it, not its
 * life: the changes it delivers later belong to the traces of the writes that caused them.
 */
export function traceWebSocketOperation<T extends ExecutionResult | AsyncIterable<ExecutionResult>>(
  args: ExecutionArgs,
  parent: Context,
  work: () => Promise<T> | T,
): Promise<T> {
  const operation = getOperationAST(args.document, args.operationName);
  const type = operation?.operation ?? 'query';
  const name = operation?.name?.value;
  const attributes = {
    [ATTR.GRAPHQL_OPERATION_TYPE]: type,
    ...(name && { [ATTR.GRAPHQL_OPERATION_NAME]: name }),
  };
  return withContext(parent, () =>
    inSpan(name ? `${type} ${name}` : type, { kind: SpanKind.SERVER, attributes }, async (span) => {
      const result = await work();
      const errors = Symbol.asyncIterator in result ? undefined : result.errors;
      if (errors !== undefined && errors.length > 0) {
        for (const error of errors) span.recordException(error.originalError ?? error);
        const code = errors[0]?.extensions.code;
        span.setAttribute(ATTR_ERROR_TYPE, typeof code === 'string' ? code : 'INTERNAL_SERVER_ERROR');
        span.setStatus({ code: SpanStatusCode.ERROR, message: errors[0]?.message });
      }
      return result;
    }),
  );
}
