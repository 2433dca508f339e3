import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import type { GraphQLSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { authenticate } from '../auth/authenticate.js';
import type { Orm } from '../db/orm.js';
import type { Viewer } from '../graphql/access.js';
import type { GraphQLContext } from '../graphql/context.js';
import { MAX_PAYLOAD_BYTES } from './request-middleware.js';

export interface WebSocketEndpoint {
  /** Stops accepting operations and closes every socket. */
  dispose(): Promise<void>;
  close(): Promise<void>;
}

/**
 * graphql-ws on `/graphql`, sharing the HTTP server. Authentication happens once, in connection_init
 * (`connectionParams.authorization`); a bad key closes the socket with 4403.
 */
export function serveWebSockets(
  httpServer: http.Server,
  schema: GraphQLSchema,
  orm: Orm,
  contextFor: (viewer: Viewer, requestId: string, clientIp: string | null) => GraphQLContext,
): WebSocketEndpoint {
  const wsServer = new WebSocketServer({
    server: httpServer,
    path: '/graphql',
    maxPayload: MAX_PAYLOAD_BYTES,
  });
  const handle = useServer<Record<string, unknown>, { viewer?: Viewer }>(
    {
      schema,
      onConnect: async (ctx) => {
        try {
          ctx.extra.viewer = await authenticate(orm.em.fork(), ctx.connectionParams?.authorization);
          return true;
        } catch {
          return false;
        }
      },
      context: (ctx) => {
        const viewer = ctx.extra.viewer;
        if (viewer === undefined) throw new Error('websocket context without an authenticated viewer');
        return contextFor(viewer, randomUUID(), ctx.extra.request.socket.remoteAddress ?? null);
      },
    },
    wsServer,
  );
  return {
    dispose: () => Promise.resolve(handle.dispose()),
    close: () => new Promise<void>((resolve) => wsServer.close(() => resolve())),
  };
}
