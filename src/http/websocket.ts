import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import type { Context } from '@opentelemetry/api';
import {
  type ExecutionArgs,
  type ExecutionResult,
  execute,
  GraphQLError,
  type GraphQLSchema,
  getOperationAST,
} from 'graphql';
import { type WebSocket, WebSocketServer } from 'ws';
import type { Admission } from '../auth/admission.js';
import { API_KEY_TOPICS } from '../auth/api-key.events.js';
import { reauthorize } from '../auth/authenticate.js';
import type { WebSocketSettings } from '../config.js';
import type { Orm } from '../db/orm.js';
import type { Viewer } from '../graphql/access.js';
import type { GraphQLContext } from '../graphql/context.js';
import { type ErrorFormatter, formatErrorsOutsideApollo } from '../graphql/error-masking.js';
import { ErrorCode } from '../graphql/errors.js';
import { checkOperation } from '../graphql/limits.js';
import { nulCharacterErrors } from '../graphql/nul-character.js';
import { createSubscriptionFanOut, type FanOutStats } from '../graphql/subscription-fan-out.js';
import type { Logger } from '../logger.js';
import { traceWebSocketOperation } from '../observability/graphql-tracing.js';
import { incomingContext } from '../observability/spans.js';
import { closeIterable, consume } from '../pubsub/iterables.js';
import type { EventBus } from '../pubsub/pubsub.js';
import { serveGraphqlWs } from './graphql-ws-transport.js';
import { MAX_PAYLOAD_BYTES } from './request-middleware.js';

/** Close codes this endpoint uses besides graphql-ws's own (4400 bad message, 4401 no connection_init...). */
export const CLOSE_CODES = {
  /** A bad key in connection_init, or the key stopped being valid (revoked, expired, locked). */
  forbidden: 4403,
  /** The key is over its rate limit, or holds too many sockets already. */
  tooManyRequests: 4429,
  /** The instance holds as many sockets as it may: try again later (or another instance). */
  tryAgainLater: 1013,
} as const;

export interface WebSocketEndpoint {
  /** Authenticated sockets of this instance, the subscriptions running on them and their groups (for metrics). */
  stats(): WebSocketStats;
  /** Stops accepting operations and closes every socket. */
  dispose(): Promise<void>;
  close(): Promise<void>;
}

export interface WebSocketStats {
  readonly sockets: number;
  readonly subscriptions: number;
  /** How live subscriptions are served: groups that see the same answers, and changes executed for them. */
  readonly fanOut: FanOutStats;
}

export interface WebSocketOptions {
  readonly orm: Orm;
  readonly admission: Admission;
  readonly eventBus: EventBus;
  readonly settings: WebSocketSettings;
  readonly log: Logger;
  /** The client's address, as for HTTP requests (`X-Forwarded-For` behind trusted proxies). */
  readonly clientIpOf: (request: http.IncomingMessage) => string | null;
  readonly introspection: boolean;
  /** Apollo's error formatter, so errors read the same over both transports. */
  readonly formatError: ErrorFormatter;
  readonly contextFor: (viewer: Viewer, requestId: string, clientIp: string | null) => GraphQLContext;
  /** A span per operation (OTEL_EXPORTER_OTLP_ENDPOINT set); off, nothing is added to the path. */
  readonly tracing?: boolean;
}

/** An authenticated socket. Its viewer is replaced when its key is checked again and still valid. */
interface Connection {
  readonly socket: WebSocket;
  readonly clientIp: string | null;
  viewer: Viewer;
  /** The trace the socket was opened in (with tracing on): its operations' spans are children of it. */
  readonly traceParent?: Context;
  expiry?: NodeJS.Timeout;
  /** The operations (subscriptions) running on the socket now. */
  readonly operations: () => number;
}

/** Longest delay `setTimeout` takes; keys expiring later are caught by the periodic check. */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * graphql-ws on `/graphql`, sharing the HTTP server. Authentication and rate limits apply once, in
 * connection_init (`connectionParams.authorization`), and each subscription counts against the key's rate
 * limits. Operations meet the same limits as over HTTP and their errors are masked the same way. Sockets are
 * capped per instance and per key, pinged to find dead peers, and closed when their key stops being valid.
 */
export function serveWebSockets(
  httpServer: http.Server,
  schema: GraphQLSchema,
  options: WebSocketOptions,
): WebSocketEndpoint {
  const { orm, admission, eventBus, settings, log, clientIpOf, introspection, formatError, contextFor } =
    options;
  const wsServer = new WebSocketServer({
    server: httpServer,
    path: '/graphql',
    maxPayload: MAX_PAYLOAD_BYTES,
  });
  const connections = new ConnectionRegistry();
  const fanOut = createSubscriptionFanOut();
  const tracing = options.tracing === true;
  // Each operation's context, to the trace of the socket it came on.
  const traceParents = new WeakMap<GraphQLContext, Context>();
  const traced = <T extends ExecutionResult | AsyncIterable<ExecutionResult>>(
    args: ExecutionArgs,
    work: () => Promise<T> | T,
  ): Promise<T> | T => {
    const parent = tracing ? traceParents.get(args.contextValue as GraphQLContext) : undefined;
    return parent === undefined ? work() : traceWebSocketOperation(args, parent, work);
  };

  // Registered before graphql-ws's own listener, so a socket over the cap is closed before it is served.
  wsServer.on('connection', (socket) => {
    if (wsServer.clients.size > settings.maxConnections) {
      socket.close(CLOSE_CODES.tryAgainLater, 'Too many connections to this instance; try again later');
    }
  });

  const closeConnection = (connection: Connection, code: number, reason: string) => {
    connections.remove(connection);
    connection.socket.close(code, reason);
  };

  const recheck = async (checked: readonly Connection[]) => {
    if (checked.length === 0) return;
    const viewers = await reauthorize(orm.em.fork(), checked);
    checked.forEach((connection, index) => {
      const viewer = viewers[index];
      if (viewer) connection.viewer = viewer;
      else
        closeConnection(connection, CLOSE_CODES.forbidden, 'Forbidden: the credentials are no longer valid');
    });
  };
  const recheckSafely = (checked: readonly Connection[]) =>
    recheck(checked).catch((error: unknown) =>
      log.warn(
        { err: error instanceof Error ? error.message : String(error) },
        'websocket keys not rechecked',
      ),
    );

  const keyChanges = eventBus.pubSub.subscribe(API_KEY_TOPICS.apiKeyChanged);
  const resyncs = eventBus.resyncs();
  void consume(keyChanges, (event) => recheckSafely(connections.ofPrincipal(`key:${event.apiKeyId}`)));
  // Revocations published while Redis was away are lost: check every key when it is back.
  void consume(resyncs, () => recheckSafely(connections.all()));
  const periodicCheck = setInterval(
    () => void recheckSafely(connections.all()),
    settings.reauthorizeIntervalMs,
  );
  periodicCheck.unref();

  const handle = serveGraphqlWs<Record<string, unknown>, { connection?: Connection }>(
    {
      schema,
      subscribe: (args) => traced(args, () => fanOut.subscribe(args)),
      execute: (args) => traced(args, () => execute(args)),
      onConnect: async (ctx) => {
        const { socket, request } = ctx.extra;
        const clientIp = clientIpOf(request);
        let viewer: Viewer;
        try {
          viewer = await admission.admit(orm.em.fork(), authorizationParam(ctx.connectionParams), clientIp);
        } catch (error) {
          if (codeOf(error) === ErrorCode.RATE_LIMITED) {
            socket.close(CLOSE_CODES.tooManyRequests, 'Too many requests: retry later');
          }
          return false;
        }
        if (connections.ofPrincipal(viewer.principalId).length >= settings.maxConnectionsPerKey) {
          socket.close(CLOSE_CODES.tooManyRequests, 'Too many connections for this API key');
          return false;
        }
        const connection: Connection = {
          socket,
          clientIp,
          viewer,
          operations: () => Object.keys(ctx.subscriptions).length,
          ...(tracing && {
            traceParent: incomingContext({ ...request.headers, ...traceFields(ctx.connectionParams) }),
          }),
        };
        connections.add(connection);
        const untilExpiry = viewer.expiresAt === null ? null : viewer.expiresAt.getTime() - Date.now();
        if (untilExpiry !== null && untilExpiry < MAX_TIMER_MS) {
          connection.expiry = setTimeout(
            () =>
              closeConnection(connection, CLOSE_CODES.forbidden, 'Forbidden: the credentials have expired'),
            Math.max(0, untilExpiry),
          );
        }
        ctx.extra.connection = connection;
        return true;
      },
      onClose: (ctx) => {
        if (ctx.extra.connection) connections.remove(ctx.extra.connection);
      },
      context: (ctx) => {
        const connection = ctx.extra.connection;
        if (connection === undefined)
          throw new Error('websocket context without an authenticated connection');
        const context = contextFor(connection.viewer, randomUUID(), connection.clientIp);
        if (connection.traceParent !== undefined) traceParents.set(context, connection.traceParent);
        return context;
      },
      onSubscribe: async (ctx, _id, payload) => {
        const connection = ctx.extra.connection;
        if (connection === undefined) throw new Error('subscribe on an unauthenticated websocket');
        const checked = checkOperation(schema, payload.query, {
          introspection,
          operationName: payload.operationName,
          variables: payload.variables,
        });
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
        try {
          await admission.admitOperation(connection.viewer);
        } catch (error) {
          if (error instanceof GraphQLError) return [error];
          throw error;
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
        return { ...result, errors: formatErrorsOutsideApollo(result.errors, requestId, log, formatError) };
      },
      onError: (_ctx, _id, _payload, errors) =>
        formatErrorsOutsideApollo(errors, randomUUID(), log, formatError),
    },
    wsServer,
    settings.keepAliveMs,
    log,
  );

  return {
    stats: () => {
      const all = connections.all();
      return {
        sockets: all.length,
        subscriptions: all.reduce((sum, each) => sum + each.operations(), 0),
        fanOut: fanOut.stats(),
      };
    },
    dispose: async () => {
      clearInterval(periodicCheck);
      await Promise.allSettled([closeIterable(keyChanges), closeIterable(resyncs)]);
      connections.clear();
      await handle.dispose();
    },
    close: () => new Promise<void>((resolve) => wsServer.close(() => resolve())),
  };
}

/** The authenticated sockets of this instance, by principal (key or token user). */
class ConnectionRegistry {
  private readonly byKey = new Map<string, Set<Connection>>();

  add(connection: Connection): void {
    const id = connection.viewer.principalId;
    const set = this.byKey.get(id) ?? new Set<Connection>();
    set.add(connection);
    this.byKey.set(id, set);
  }

  remove(connection: Connection): void {
    clearTimeout(connection.expiry);
    const id = connection.viewer.principalId;
    const set = this.byKey.get(id);
    set?.delete(connection);
    if (set?.size === 0) this.byKey.delete(id);
  }

  ofPrincipal(principalId: string): Connection[] {
    return [...(this.byKey.get(principalId) ?? [])];
  }

  all(): Connection[] {
    return [...this.byKey.values()].flatMap((set) => [...set]);
  }

  clear(): void {
    for (const connection of this.all()) clearTimeout(connection.expiry);
    this.byKey.clear();
  }
}

function codeOf(error: unknown): unknown {
  return error instanceof GraphQLError ? error.extensions.code : undefined;
}

/**
 * The key from connection_init: `authorization`, or any spelling of it, since clients such as GraphiQL send
 * their HTTP headers as the connection params.
 */
function authorizationParam(params: Readonly<Record<string, unknown>> | undefined): unknown {
  if (params === undefined) return undefined;
  if ('authorization' in params) return params.authorization;
  const name = Object.keys(params).find((key) => key.toLowerCase() === 'authorization');
  return name === undefined ? undefined : params[name];
}

/** W3C trace fields a client sent in connection_init (they cannot set headers on a browser websocket). */
function traceFields(params: Readonly<Record<string, unknown>> | undefined): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const name of ['traceparent', 'tracestate']) {
    const value = params?.[name];
    if (typeof value === 'string') fields[name] = value;
  }
  return fields;
}
