import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { expressMiddleware } from '@as-integrations/express5';
import cors from 'cors';
import express, { type Request, type Response } from 'express';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { ensureAdminApiKey } from './auth/api-key.service.js';
import { authenticate } from './auth/authenticate.js';
import type { AppConfig } from './config.js';
import { type DatabaseTarget, databaseTarget, type EntityManager, initOrm, type Orm } from './db/orm.js';
import { entities } from './entities.js';
import type { Viewer } from './graphql/access.js';
import type { GraphQLContext } from './graphql/context.js';
import { formatError, requestIdPlugin } from './graphql/error-masking.js';
import type { Logger } from './logger.js';
import { createRequestLoaders } from './modules.js';
import { createEventBus, type EventBus } from './pubsub/pubsub.js';
import { buildAppSchema } from './schema.js';

/** Largest request body (HTTP) or message (websocket) the API accepts. */
const MAX_PAYLOAD_BYTES = 1024 * 1024;

export interface AppOptions {
  readonly config: AppConfig;
  readonly log: Logger;
  /** Overrides the database chosen from the configuration (tests pass their own). */
  readonly database?: DatabaseTarget;
  /** Receives every SQL statement (tests count them). */
  readonly onQuery?: (sql: string) => void;
}

export interface RunningApp {
  /** The GraphQL endpoint, e.g. `http://127.0.0.1:4000/graphql`. */
  readonly url: string;
  readonly orm: Orm;
  readonly eventBus: EventBus;
  /** Drains HTTP and websockets, then closes the database and Redis. Safe to call twice. */
  close(): Promise<void>;
}

/** `x-request-id` from the client when it is a sane token, otherwise a fresh one. */
function requestIdOf(header: unknown): string {
  return typeof header === 'string' && /^[\w.-]{1,64}$/.test(header) ? header : randomUUID();
}

/**
 * The composition root: opens the database (applying migrations), connects the event bus, builds the schema
 * and serves it over HTTP and graphql-ws on one port.
 */
export async function startApp(options: AppOptions): Promise<RunningApp> {
  const { config, log } = options;
  const orm = await initOrm({
    target: options.database ?? databaseTarget(config),
    entities,
    onQuery: options.onQuery,
  });
  const eventBus = createEventBus(config.redisUrl, log);
  try {
    if (config.migrateOnStart) {
      const applied = await orm.getMigrator().up();
      if (applied.length > 0) log.info({ migrations: applied.map((m) => m.name) }, 'migrations applied');
    }
    if (config.adminApiKey !== undefined) {
      const outcome = await ensureAdminApiKey(orm.em.fork(), config.adminApiKey);
      if (outcome === 'revoked') log.warn('ADMIN_API_KEY has been revoked and stays revoked');
      else log.info({ outcome }, 'ADMIN_API_KEY ensured');
    }
    return await serve(options, orm, eventBus);
  } catch (error) {
    await Promise.allSettled([orm.close(), eventBus.close()]);
    throw error;
  }
}

async function serve(options: AppOptions, orm: Orm, eventBus: EventBus): Promise<RunningApp> {
  const { config, log } = options;
  const schema = await buildAppSchema(eventBus.pubSub);
  const app = express();
  app.disable('x-powered-by');
  const httpServer = http.createServer(app);

  const contextFor = (em: EntityManager, viewer: Viewer, requestId: string, clientIp: string | null) =>
    ({ requestId, em, viewer, clientIp, loaders: createRequestLoaders(em) }) satisfies GraphQLContext;

  const wsServer = new WebSocketServer({
    server: httpServer,
    path: '/graphql',
    maxPayload: MAX_PAYLOAD_BYTES,
  });
  const wsHandle = useServer<Record<string, unknown>, { viewer?: Viewer }>(
    {
      schema,
      // Authentication happens once, in connection_init; a bad key closes the socket with 4403.
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
        return contextFor(
          orm.em.fork(),
          viewer,
          randomUUID(),
          ctx.extra.request.socket.remoteAddress ?? null,
        );
      },
    },
    wsServer,
  );

  const apollo = new ApolloServer<GraphQLContext>({
    schema,
    formatError,
    includeStacktraceInErrorResponses: false,
    csrfPrevention: true,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      // Subgraphs trace inline by default; we report no traces to a router.
      ApolloServerPluginInlineTraceDisabled(),
      requestIdPlugin(log),
      {
        async serverWillStart() {
          return {
            async drainServer() {
              await wsHandle.dispose();
            },
          };
        },
      } satisfies ApolloServerPlugin<GraphQLContext>,
    ],
  });
  await apollo.start();

  app.get('/healthz', (_req: Request, res: Response) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req: Request, res: Response) => {
    try {
      const em = orm.em.fork();
      await em.execute('select 1');
      const pending = await orm.getMigrator().getPendingMigrations();
      if (pending.length > 0) {
        res.status(503).json({ status: 'migrations pending', pending: pending.map((m) => m.name) });
        return;
      }
      res.json({ status: 'ready', eventBus: eventBus.kind });
    } catch (error) {
      log.warn({ err: error instanceof Error ? error.message : String(error) }, 'readiness check failed');
      res.status(503).json({ status: 'database unreachable' });
    }
  });

  app.use(
    '/graphql',
    (req: Request, res: Response, next: () => void) => {
      const requestId = requestIdOf(req.headers['x-request-id']);
      res.locals.requestId = requestId;
      res.setHeader('x-request-id', requestId);
      next();
    },
    cors<express.Request>(),
    express.json({ limit: MAX_PAYLOAD_BYTES }),
    expressMiddleware(apollo, {
      context: async ({ req, res }) => {
        const em = orm.em.fork();
        const viewer = await authenticate(em, req.headers.authorization);
        return contextFor(em, viewer, String(res.locals.requestId), req.ip ?? null);
      },
    }),
  );

  // Body parsing failures (bad JSON, too large) answer like GraphQL errors, never with Express's HTML page.
  app.use(
    (
      error: { status?: number; type?: string },
      _req: Request,
      res: Response,
      next: (e?: unknown) => void,
    ) => {
      if (res.headersSent) return next(error);
      const tooLarge = error.type === 'entity.too.large';
      const status = tooLarge ? 413 : (error.status ?? 500) < 500 ? (error.status ?? 400) : 500;
      const message = tooLarge
        ? `The request body is larger than ${MAX_PAYLOAD_BYTES} bytes.`
        : status < 500
          ? 'The request body is not valid JSON.'
          : 'Something went wrong on our side.';
      res.status(status).json({
        errors: [
          {
            message,
            extensions: {
              code: status < 500 ? 'BAD_REQUEST' : 'INTERNAL_SERVER_ERROR',
              requestId: res.locals.requestId,
            },
          },
        ],
      });
    },
  );

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(config.port, config.host, () => {
      httpServer.off('error', reject);
      resolve();
    });
  });
  const { port } = httpServer.address() as AddressInfo;
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  const url = `http://${host}:${port}/graphql`;

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      await apollo.stop();
      await new Promise<void>((resolve) => wsServer.close(() => resolve()));
      await Promise.allSettled([orm.close(), eventBus.close()]);
    })();
    return closing;
  };
  return { url, orm, eventBus, close };
}
