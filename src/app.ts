import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { expressMiddleware } from '@as-integrations/express5';
import cors from 'cors';
import express from 'express';
import { createRequestLogWriter } from './audit/request-log-writer.js';
import { ensureAdminApiKey } from './auth/api-key.service.js';
import { createAuthenticator } from './auth/authenticate.js';
import type { AppConfig } from './config.js';
import { type DatabaseTarget, databaseTarget, initOrm, type Orm } from './db/orm.js';
import { entities } from './entities.js';
import type { Viewer } from './graphql/access.js';
import type { GraphQLContext } from './graphql/context.js';
import { formatError, requestIdPlugin } from './graphql/error-masking.js';
import { apolloLimitOptions } from './graphql/limits.js';
import { nulCharacterPlugin } from './graphql/nul-character.js';
import { HealthChecker } from './health/health-checker.js';
import { clientAddressOf } from './http/client-address.js';
import { healthRoutes } from './http/health-routes.js';
import { bodyErrors, MAX_PAYLOAD_BYTES, requestId } from './http/request-middleware.js';
import { serveWebSockets } from './http/websocket.js';
import type { Logger } from './logger.js';
import { createRequestLoaders } from './modules.js';
import { parseIpRanges } from './net/ip-range.js';
import { createEventBus, type EventBus } from './pubsub/pubsub.js';
import { buildAppSchema } from './schema.js';

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
  /** The health checker of this instance, unless `HEALTH_CHECKER=off`. */
  readonly healthChecker: HealthChecker | null;
  /** Drains HTTP and websockets, then closes the database and Redis. Safe to call twice. */
  close(): Promise<void>;
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

  // One EntityManager fork and one set of loaders per request (and per websocket operation).
  const contextFor = (viewer: Viewer, requestId: string, clientIp: string | null, em = orm.em.fork()) =>
    ({
      requestId,
      em,
      viewer,
      clientIp,
      config,
      eventBus,
      loaders: createRequestLoaders(em),
    }) satisfies GraphQLContext;
  const authenticate = createAuthenticator({ maxFailedAttempts: config.security.maxFailedAttempts, log });
  const trustedProxies = parseIpRanges(config.security.trustedProxies);
  const clientIpOf = (req: http.IncomingMessage) => clientAddressOf(req, trustedProxies);
  const limits = apolloLimitOptions(config.security.introspection);
  const webSockets = serveWebSockets(httpServer, schema, {
    orm,
    authenticate,
    clientIpOf,
    introspection: config.security.introspection,
    log,
    contextFor,
  });
  const requestLogs = createRequestLogWriter({ orm, log });

  const apollo = new ApolloServer<GraphQLContext>({
    schema,
    formatError,
    includeStacktraceInErrorResponses: false,
    csrfPrevention: true,
    introspection: limits.introspection,
    validationRules: limits.validationRules,
    parseOptions: limits.parseOptions,
    allowBatchedHttpRequests: limits.allowBatchedHttpRequests,
    plugins: [
      limits.plugin,
      nulCharacterPlugin(),
      ApolloServerPluginDrainHttpServer({ httpServer }),
      // Subgraphs trace inline by default; we report no traces to a router.
      ApolloServerPluginInlineTraceDisabled(),
      requestIdPlugin(log),
      requestLogs.plugin,
      {
        async serverWillStart() {
          return { drainServer: () => webSockets.dispose() };
        },
      } satisfies ApolloServerPlugin<GraphQLContext>,
    ],
  });
  await apollo.start();

  app.use(healthRoutes(orm, eventBus, log));
  app.use(
    '/graphql',
    requestId,
    cors<express.Request>(),
    express.json({ limit: MAX_PAYLOAD_BYTES }),
    expressMiddleware(apollo, {
      context: async ({ req, res }) => {
        const em = orm.em.fork();
        const clientIp = clientIpOf(req);
        const viewer = await authenticate(em, req.headers.authorization, clientIp);
        return contextFor(viewer, String(res.locals.requestId), clientIp, em);
      },
    }),
  );
  app.use(bodyErrors);

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(config.port, config.host, () => {
      httpServer.off('error', reject);
      resolve();
    });
  });
  const { port } = httpServer.address() as AddressInfo;
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;

  const healthChecker = config.health.checkerEnabled
    ? new HealthChecker(orm, config.health, eventBus.pubSub, log)
    : null;
  healthChecker?.start();

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      await healthChecker?.stop();
      await apollo.stop();
      await webSockets.close();
      await Promise.allSettled([orm.close(), eventBus.close()]);
    })();
    return closing;
  };
  return { url: `http://${host}:${port}/graphql`, orm, eventBus, healthChecker, close };
}
