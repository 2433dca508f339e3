import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginInlineTraceDisabled,
  ApolloServerPluginLandingPageDisabled,
} from '@apollo/server/plugin/disabled';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { expressMiddleware } from '@as-integrations/express5';
import cors from 'cors';
import express from 'express';
import { BehindAuditWrites } from './audit/audit-writes.js';
import { createRequestLogWriter } from './audit/request-log-writer.js';
import { createAdmission } from './auth/admission.js';
import { ensureAdminApiKey } from './auth/api-key.service.js';
import { publishApiKeyChanges } from './auth/api-key-changes.js';
import { createAuthenticator } from './auth/authenticate.js';
import { KeyCache } from './auth/key-cache.js';
import { LocalRateLimitStore, type RateLimitStore } from './auth/rate-limit.js';
import { RedisRateLimitStore } from './auth/redis-rate-limit-store.js';
import { createTokenVerifier } from './auth/token-verifier.js';
import type { AppConfig } from './config.js';
import { openKeyring } from './crypto/development-key.js';
import type { Keyring } from './crypto/keyring.js';
import { type OpenDatabase, openDatabase } from './db/open-database.js';
import { type DatabaseTarget, databaseTarget, type Orm } from './db/orm.js';
import { databasePoolStats } from './db/pool-stats.js';
import { scopeToTenant } from './db/tenant-scope.js';
import { entities } from './entities.js';
import { publishCatalogChanges } from './gateway/catalog-changes.js';
import { mcpEndpoint } from './gateway/mcp-endpoint.js';
import { tenantScopeOf, type Viewer } from './graphql/access.js';
import { compiledExecutionGateway } from './graphql/compiled-execution.js';
import type { GraphQLContext } from './graphql/context.js';
import { requestIdPlugin } from './graphql/error-masking.js';
import { apolloLimitOptions } from './graphql/limits.js';
import { nulCharacterPlugin } from './graphql/nul-character.js';
import { CapabilityWatcher } from './health/capability-watcher.js';
import { HealthChecker } from './health/health-checker.js';
import { clientAddressOf } from './http/client-address.js';
import { dashboardRoutes, dashboardSignIn } from './http/dashboard-routes.js';
import { healthRoutes } from './http/health-routes.js';
import { metricsRoute } from './http/metrics-route.js';
import { bodyErrors, MAX_PAYLOAD_BYTES, requestId } from './http/request-middleware.js';
import { serveWebSockets } from './http/websocket.js';
import type { Logger } from './logger.js';
import { UpstreamPool } from './mcp/mcp-client.js';
import { createRequestLoaders } from './modules.js';
import { parseIpRanges } from './net/ip-range.js';
import { graphqlMetricsPlugin } from './observability/graphql-metrics.js';
import { graphqlTracingMiddleware, graphqlTracingPlugin } from './observability/graphql-tracing.js';
import { createMetrics, registerScrapedGauges } from './observability/metrics.js';
import { registryCounts } from './observability/registry-counts.js';
import { recordStatementSpan } from './observability/sql-tracing.js';
import { createEventBus, type EventBus } from './pubsub/pubsub.js';
import { sealStoredConnectionHeaders } from './registry/connection-headers.js';
import { registryApiRoutes } from './registry-api/registry-api.routes.js';
import { RegistrySync } from './registry-import/registry-sync.js';
import { CallFigures } from './routing/call-figures.js';
import { publishRoutingRuleChanges, TenantRoutingRules } from './routing/tenant-rules.js';
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
  /** Seals and opens stored credentials (ENCRYPTION_KEY, or the development key file). */
  readonly keyring: Keyring;
  /** The health checker of this instance, unless `HEALTH_CHECKER=off`. */
  readonly healthChecker: HealthChecker | null;
  /** Where the health checker runs, unless `CAPABILITY_WATCH_MAX=0`: sessions to servers announcing list changes. */
  readonly capabilityWatcher: CapabilityWatcher | null;
  /** Where the health checker runs: the scheduled sync of the upstream registries in REGISTRY_SYNC_URLS. */
  readonly registrySync: RegistrySync | null;
  /** The tool call figures written behind the calls; `flush()` writes them now. */
  readonly callFigures: CallFigures;
  /** Agents' tool call audit rows written behind the answers; `settled()` waits for those in flight. */
  readonly auditWrites: BehindAuditWrites;
  /** Drains HTTP and websockets, then closes the database and Redis. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * The composition root: opens the database (applying migrations), connects the event bus, builds the schema
 * and serves it over HTTP and graphql-ws on one port.
 */
export async function startApp(options: AppOptions): Promise<RunningApp> {
  const { config, log } = options;
  // First: an embedded data directory is locked before anything (the development key included) is written.
  const database = await openDatabase({
    target: options.database ?? databaseTarget(config),
    entities,
    onQuery: options.onQuery,
    ...(config.tracing.enabled && { onStatement: recordStatementSpan }),
    process: 'server',
    migrate: config.migrateOnStart,
    log,
  });
  const { orm } = database;
  let eventBus: EventBus | undefined;
  let rateLimitStore: RateLimitStore | undefined;
  try {
    const keyring = openKeyring(config, log);
    eventBus = createEventBus(config.redisUrl, log);
    rateLimitStore =
      config.redisUrl === undefined
        ? new LocalRateLimitStore()
        : await RedisRateLimitStore.open(config.redisUrl, config.redisKeyPrefix, log);
    await sealStoredConnectionHeaders(orm, keyring, log);
    if (config.adminApiKey !== undefined) {
      const outcome = await ensureAdminApiKey(orm.em.fork(), config.adminApiKey);
      if (outcome === 'revoked') log.warn('ADMIN_API_KEY has been revoked and stays revoked');
      else log.info({ outcome }, 'ADMIN_API_KEY ensured');
    }
    return await serve(options, database, eventBus, rateLimitStore, keyring);
  } catch (error) {
    await Promise.allSettled([database.close(), eventBus?.close(), rateLimitStore?.close()]);
    throw error;
  }
}

async function serve(
  options: AppOptions,
  database: OpenDatabase,
  eventBus: EventBus,
  rateLimitStore: RateLimitStore,
  keyring: Keyring,
): Promise<RunningApp> {
  const { config, log } = options;
  const { orm } = database;
  const schema = await buildAppSchema(eventBus.pubSub);
  publishCatalogChanges(orm, eventBus.pubSub);
  publishRoutingRuleChanges(orm, eventBus.pubSub);
  publishApiKeyChanges(orm, eventBus.pubSub);
  const app = express();
  // No cache revalidates GraphQL answers (no cache hints are served; dashboards POST), yet Express would hash
  // every body for an ETag: a page of servers is ~600 KiB.
  app.set('etag', false);
  app.disable('x-powered-by');
  const httpServer = http.createServer(app);
  const metrics = createMetrics();
  const upstreams = new UpstreamPool({
    idleMs: config.gateway.upstreamIdleMs,
    maxSessions: config.gateway.maxUpstreamSessions,
  });
  const callFigures = new CallFigures({ orm, log });
  const routingRules = new TenantRoutingRules(eventBus.coherence);
  // Known once the server listens (PORT may be 0); requests only come after that.
  let publicOrigin = config.publicUrl ?? '';

  // One EntityManager fork and one set of loaders per request (and per websocket operation).
  // Every query of the request, its loaders and forks included, stays inside the viewer's tenant scope.
  const contextFor = (
    viewer: Viewer,
    requestId: string,
    clientIp: string | null,
    em = orm.em.fork(),
  ): GraphQLContext => {
    scopeToTenant(em, tenantScopeOf(viewer));
    return {
      requestId,
      em,
      viewer,
      clientIp,
      publicOrigin,
      config,
      keyring,
      eventBus,
      upstreams,
      callFigures,
      routingRules,
      metrics,
      loaders: createRequestLoaders(em),
    };
  };
  const oidc = config.security.oidc;
  const authenticate = createAuthenticator({
    maxFailedAttempts: config.security.maxFailedAttempts,
    log,
    keys: new KeyCache(eventBus.coherence),
    eventBus,
    ...(oidc !== null && { tokens: { settings: oidc, verifier: createTokenVerifier(oidc) } }),
  });
  const admission = createAdmission(authenticate, rateLimitStore, config.security.rateLimits, {
    onRefused: (budget) => metrics.rateLimitRefusals.inc({ budget }),
  });
  const trustedProxies = parseIpRanges(config.security.trustedProxies);
  const clientIpOf = (req: http.IncomingMessage) => clientAddressOf(req, trustedProxies);
  const limits = apolloLimitOptions(config.security.introspection);
  const webSockets = serveWebSockets(httpServer, schema, {
    orm,
    admission,
    eventBus,
    settings: config.security.webSockets,
    log,
    clientIpOf,
    introspection: config.security.introspection,
    formatError: limits.formatError,
    contextFor,
    tracing: config.tracing.enabled,
  });
  const requestLogs = createRequestLogWriter({ orm, log });
  const auditWrites = new BehindAuditWrites(log);
  const agents = mcpEndpoint({
    orm,
    admission,
    clientIpOf,
    pubSub: eventBus.pubSub,
    coherence: eventBus.coherence,
    keyring,
    config,
    requestLogs,
    auditWrites,
    upstreams,
    callFigures,
    routingRules,
    metrics,
    log,
    publicOrigin: () => publicOrigin,
  });
  registerScrapedGauges(metrics, {
    websockets: () => webSockets.stats(),
    eventBus: () => ({ kind: eventBus.kind, ready: eventBus.isReady() }),
    databasePool: () => databasePoolStats(orm),
    registryCounts: () => registryCounts(orm),
  });

  const apollo = new ApolloServer<GraphQLContext>({
    gateway: compiledExecutionGateway(schema),
    // The process decides what a signal does (entry-point.ts): Apollo's own handler would re-raise SIGTERM
    // and end the process before the database is closed.
    stopOnTerminationSignals: false,
    formatError: limits.formatError,
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
      // No cache hints are served; without this default plugin Apollo wraps no resolver in per-field hooks.
      ApolloServerPluginCacheControlDisabled(),
      // Apollo's landing pages load from a CDN; browsers get our own GraphiQL instead (dashboardRoutes).
      ApolloServerPluginLandingPageDisabled(),
      requestIdPlugin(log),
      requestLogs.plugin,
      graphqlMetricsPlugin(metrics),
      ...(config.tracing.enabled ? [graphqlTracingPlugin()] : []),
      {
        async serverWillStart() {
          return { drainServer: () => webSockets.dispose() };
        },
      } satisfies ApolloServerPlugin<GraphQLContext>,
    ],
  });
  await apollo.start();

  app.use(healthRoutes(orm, eventBus, log));
  const dashboard = dashboardRoutes({
    introspection: config.security.introspection,
    signIn: dashboardSignIn(config.security.oidc),
  });
  app.use(dashboard.routes);
  app.use(agents.router);
  app.use(
    registryApiRoutes({
      orm,
      admission,
      clientIpOf,
      keyring,
      namespaceBase: config.registryNamespaceBase,
      publicOrigin: () => publicOrigin,
      log,
    }),
  );
  app.use(
    metricsRoute({
      metrics,
      orm,
      admission,
      clientIpOf,
      allow: parseIpRanges(config.security.metricsAllow),
      log,
    }),
  );
  app.use(
    '/graphql',
    dashboard.graphiql,
    requestId,
    cors<express.Request>(),
    express.json({ limit: MAX_PAYLOAD_BYTES }),
    // With tracing off nothing is added to the request path.
    ...(config.tracing.enabled ? [graphqlTracingMiddleware()] : []),
    expressMiddleware(apollo, {
      context: async ({ req, res }) => {
        const em = orm.em.fork();
        const clientIp = clientIpOf(req);
        const viewer = await admission.admit(em, req.headers.authorization, clientIp);
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
  publicOrigin = config.publicUrl ?? `http://${host}:${port}`;

  const healthChecker = config.health.checkerEnabled
    ? new HealthChecker(orm, config.health, eventBus.pubSub, log, keyring, metrics)
    : null;
  healthChecker?.start();
  const capabilityWatcher =
    config.health.checkerEnabled && config.health.capabilityWatch.maxSessions > 0
      ? new CapabilityWatcher(orm, config.health, log, keyring)
      : null;
  capabilityWatcher?.start();
  const registrySync = config.health.checkerEnabled ? new RegistrySync(orm, config, log, keyring) : null;
  registrySync?.start();

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      await Promise.all([healthChecker?.stop(), capabilityWatcher?.stop(), registrySync?.stop()]);
      // Standing MCP streams would hold the HTTP server's drain open.
      await agents.close();
      await apollo.stop();
      await upstreams.close();
      await webSockets.close();
      // After the last call: what it counted and its audit row are written before the database closes.
      await Promise.all([callFigures.close(), auditWrites.settled()]);
      await Promise.allSettled([database.close(), eventBus.close(), admission.close()]);
    })();
    return closing;
  };
  return {
    url: `http://${host}:${port}/graphql`,
    orm,
    eventBus,
    keyring,
    healthChecker,
    capabilityWatcher,
    registrySync,
    callFigures,
    auditWrites,
    close,
  };
}
