import type http from 'node:http';
import { CloseCode, handleProtocols, makeServer, type ServerOptions } from 'graphql-ws';
import type { WebSocket, WebSocketServer } from 'ws';
import type { Logger } from '../logger.js';

/** What graphql-ws hands our callbacks besides the connection's own context (as `graphql-ws/use/ws` does). */
export interface SocketExtra {
  readonly socket: WebSocket;
  readonly request: http.IncomingMessage;
}

/**
 * graphql-ws served on a `ws` server, like `graphql-ws/use/ws`, but every socket error is one structured log
 * line instead of a `console.error` with a stack: a client can cause them (a message over `maxPayload`, a
 * broken frame), so they are the client's doing, logged at `warn`, and the socket is closed as ws closes it.
 * Built on graphql-ws's own `makeServer`, its documented way to serve the protocol over another transport.
 */
export function serveGraphqlWs<
  P extends Record<string, unknown> | undefined,
  E extends Record<PropertyKey, unknown>,
>(
  options: ServerOptions<P, E & SocketExtra>,
  wsServer: WebSocketServer,
  keepAliveMs: number,
  log: Logger,
): { dispose(): Promise<void> } {
  const server = makeServer(options);
  wsServer.options.handleProtocols = handleProtocols;
  wsServer.on('error', (error) => log.error({ err: error }, 'websocket server error'));

  wsServer.on('connection', (socket, request) => {
    socket.once('error', (error) => {
      // ws closes the socket itself after these (1009 for an oversized message, 1002 for a bad frame).
      log.warn(
        { err: error.message, code: (error as { code?: string }).code, ip: request.socket.remoteAddress },
        'websocket closed on a client error',
      );
    });

    let pongWait: NodeJS.Timeout | null = null;
    const pinger =
      keepAliveMs > 0 && Number.isFinite(keepAliveMs)
        ? setInterval(() => {
            if (socket.readyState !== socket.OPEN) return;
            pongWait = setTimeout(() => socket.terminate(), keepAliveMs);
            socket.once('pong', () => {
              if (pongWait) clearTimeout(pongWait);
              pongWait = null;
            });
            socket.ping();
          }, keepAliveMs)
        : null;

    const closed = server.opened(
      {
        protocol: socket.protocol,
        send: (data) =>
          new Promise<void>((resolve, reject) => {
            if (socket.readyState !== socket.OPEN) return resolve();
            socket.send(data, (error) => (error ? reject(error) : resolve()));
          }),
        close: (code, reason) => socket.close(code, reason),
        onMessage: (handle) =>
          socket.on('message', async (data) => {
            try {
              await handle(String(data));
            } catch (error) {
              log.error({ err: error }, 'unexpected error while handling a websocket message');
              socket.close(CloseCode.InternalServerError, 'Internal server error');
            }
          }),
      },
      { socket, request } as E & SocketExtra,
    );

    socket.once('close', (code, reason) => {
      if (pongWait) clearTimeout(pongWait);
      if (pinger) clearInterval(pinger);
      void closed(code, String(reason));
    });
  });

  return {
    async dispose() {
      for (const client of wsServer.clients) client.close(1001, 'Going away');
      wsServer.removeAllListeners();
      await new Promise<void>((resolve, reject) =>
        wsServer.close((error) => (error ? reject(error) : resolve())),
      );
    },
  };
}
