import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import { GraphQLError, type GraphQLSchema, getOperationAST } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { Authenticate } from '../auth/authenticate.js';
import type { Orm } from '../db/orm.js';
import type { Viewer } from '../graphql/access.js';
import type { GraphQLContext } from '../graphql/context.js';
import { formatErrorsOutsideApollo } from '../graphql/error-masking.js';
import { checkOperation } from '../graphql/limits.js';
import { nulCharacterErrors } from '../graphql/nul-character.js';
import type { Logger } from '../logger.js';
import { MAX_PAYLOAD_BYTES } from './request-middleware.js';

export interface WebSocketEndpoint {
  /** Stops accepting operations and closes every socket. */
  dispose(): Promise<void>;
  close(): Promise<void>;
}

export interface WebSocketOptions {
  readonly orm: Orm;
  readonly authenticate: Authenticate;
  /** The client's address, as for HTTP requests (`X-Forwarded-For` behind trusted proxies). */
  readonly clientIpOf: (request: http.IncomingMessage) => string | null;
  readonly introspection: boolean;
  readonly log: Logger;
  readonly contextFor: (viewer: Viewer, requestId: string, clientIp: string | null) => GraphQLContext;
}

/**
 * graphql-ws on `/graphql`, sharing the HTTP server. Authentication happens once, in connection_init
 * (`connectionParams.authorization`); a bad key closes the socket with 4403. Operations meet the same
 * limits as over HTTP.
 */
export function serveWebSockets(
  httpServer: http.Server,
  schema: GraphQLSchema,
  options: WebSocketOptions,
): WebSocketEndpoint {
  const { orm, authenticate, clientIpOf, introspection, log, contextFor } = options;
  const wsServer = new WebSocketServer({
    server: httpServer,
    path: '/graphql',
    maxPayload: MAX_PAYLOAD_BYTES,
  });
  const handle = useServer<Record<string, unknown>, { viewer?: Viewer; clientIp?: string | null }>(
    {
      schema,
      onConnect: async (ctx) => {
        try {
          const clientIp = clientIpOf(ctx.extra.request);
          ctx.extra.clientIp = clientIp;
          ctx.extra.viewer = await authenticate(orm.em.fork(), ctx.connectionParams?.authorization, clientIp);
          return true;
        } catch {
          return false;
        }
      },
      context: (ctx) => {
        const viewer = ctx.extra.viewer;
        if (viewer === undefined) throw new Error('websocket context without an authenticated viewer');
        return contextFor(viewer, randomUUID(), ctx.extra.clientIp ?? null);
      },
      onSubscribe: (_ctx, _id, payload) => {
        const checked = checkOperation(schema, payload.query, { introspection });
        if ('errors' in checked) return checked.errors;
        const nulCharacters = nulCharacterErrors(payload.variables);
        if (nulCharacters.length > 0) return nulCharacters;
        if (getOperationAST(checked.document, payload.operationName) === null) {
          // Apollo's answer over HTTP; graphql-ws's own would carry no code.
          const message = payload.operationName
            ? `Unknown operation named "${payload.operationName}".`
            : 'Must provide operation name if query contains multiple operations.';
          return [new GraphQLError(message, { extensions: { code: 'OPERATION_RESOLUTION_FAILURE' } })];
        }
        return {
          schema,
          document: checked.document,
          operationName: payload.operationName,
          variableValues: payload.variables,
        };
      },
      // Results and errors leave as they would over HTTP: with codes, and nothing internal.
      onNext: (_ctx, _id, _payload, args, result) => {
        if (!result.errors) return;
        const { requestId } = args.contextValue as GraphQLContext;
        return { ...result, errors: formatErrorsOutsideApollo(result.errors, requestId, log) };
      },
      onError: (_ctx, _id, _payload, errors) => formatErrorsOutsideApollo(errors, randomUUID(), log),
    },
    wsServer,
  );
  return {
    dispose: () => Promise.resolve(handle.dispose()),
    close: () => new Promise<void>((resolve) => wsServer.close(() => resolve())),
  };
}
