import type http from 'node:http';
import { toNodeHandler } from '@modelcontextprotocol/node';
import {
  type AuthInfo,
  createMcpHandler,
  isLegacyRequest,
  type McpHandlerRequestOptions,
} from '@modelcontextprotocol/server';
import {
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
} from '@opentelemetry/semantic-conventions';
import cors from 'cors';
import { type Request as ExpressRequest, type Response as ExpressResponse, Router } from 'express';
import { GraphQLError } from 'graphql';
import { actorOf } from '../audit/audit-trail.js';
import type { AuditWrites } from '../audit/audit-writes.js';
import type { RequestLogWriter } from '../audit/request-log-writer.js';
import type { Admission } from '../auth/admission.js';
import type { AppConfig } from '../config.js';
import type { Keyring } from '../crypto/keyring.js';
import type { Orm } from '../db/orm.js';
import { scopeToTenant } from '../db/tenant-scope.js';
import { ApiKeyScope, requireAnyScope, tenantScopeOf } from '../graphql/access.js';
import { notFound } from '../graphql/errors.js';
import { isUuid } from '../graphql/validate.js';
import { requestId as assignRequestId, MAX_PAYLOAD_BYTES } from '../http/request-middleware.js';
import type { Logger } from '../logger.js';
import type { UpstreamPool } from '../mcp/mcp-client.js';
import type { Metrics } from '../observability/metrics.js';
import { ATTR, startServerSpan, withContext } from '../observability/spans.js';
import type { Coherence } from '../pubsub/coherence.js';
import type { TypedPubSub } from '../pubsub/pubsub.js';
import type { CallFigures } from '../routing/call-figures.js';
import type { TenantRoutingRules } from '../routing/tenant-rules.js';
import { virtualServerEndpointUrl } from '../virtual/virtual-endpoint.js';
import { AgentCatalogs } from './agent-catalogs.js';
import { AgentNotifier } from './agent-notifier.js';
import type { AgentRequest } from './agent-request.js';
import { agentServer } from './agent-server.js';
import { AgentSessions } from './agent-sessions.js';
import { CallCancellations, type CancellableCall } from './call-cancellations.js';
import { refusalOfAdmission } from './http-refusals.js';
import { type LegacyServingDependencies, serveLegacy } from './legacy-sessions.js';
import { OfferingServerReads } from './offering-servers.js';
import { protectedResourceMetadataUrl, protectedResourceRoutes } from './protected-resource.js';

// `/mcp/{virtualServerId}`: a virtual server as an MCP server over Streamable HTTP, for agents of both protocol
// eras. Every request is admitted like one on /graphql (the same key checks, lockout, IP allow-list and rate
// limits), needs the PROXY scope, and reaches only a virtual server the key may see; then 2026-07-28 requests
// go to the SDK's handler and 2025-era ones to the stored sessions (legacy-sessions.ts).

export interface McpEndpointOptions {
  readonly orm: Orm;
  readonly admission: Admission;
  readonly clientIpOf: (req: http.IncomingMessage) => string | null;
  readonly pubSub: TypedPubSub;
  /** What the agent catalogs kept by this instance hear every catalog change through. */
  readonly coherence: Coherence;
  readonly keyring: Keyring;
  readonly config: AppConfig;
  readonly requestLogs: RequestLogWriter;
  /** Where tool calls' audit rows are written behind their answers (waited for at shutdown by the app). */
  readonly auditWrites: AuditWrites;
  readonly upstreams: UpstreamPool;
  readonly callFigures: CallFigures;
  readonly routingRules: TenantRoutingRules;
  readonly metrics: Metrics;
  readonly log: Logger;
  /** This API's origin as agents reach it (PUBLIC_URL, or the listening address): the endpoints' resource URIs. */
  readonly publicOrigin: () => string;
}

export interface McpEndpoint {
  readonly router: Router;
  /** Ends the standing streams and subscriptions of this instance. */
  close(): Promise<void>;
}

/** One HTTP request to the endpoint, from the Express route to the MCP handlers. */
interface Exchange {
  readonly requestId: string;
  readonly clientIp: string | null;
  readonly virtualServerId: string;
  /** The JSON-RPC method, for the request log, once the body is read. */
  method: string | null;
  /** Known once admitted, for the request log. */
  tenantId: string | null;
  apiKeyId: string | null;
  userId: string | null;
}

const NEVER_CANCELLED: CancellableCall = { signal: new AbortController().signal, release: () => {} };

const MCP_CORS = cors({
  allowedHeaders: [
    'authorization',
    'content-type',
    'accept',
    'mcp-session-id',
    'mcp-protocol-version',
    'mcp-method',
    'mcp-name',
    'last-event-id',
    'x-request-id',
  ],
  exposedHeaders: [
    'mcp-session-id',
    'mcp-protocol-version',
    'www-authenticate',
    'retry-after',
    'x-request-id',
  ],
});

export function mcpEndpoint(options: McpEndpointOptions): McpEndpoint {
  const { orm, admission, config, log } = options;
  const notifier = new AgentNotifier(orm, options.pubSub, log);
  const catalogs = new AgentCatalogs(options.coherence);
  const cancellations = new CallCancellations(options.pubSub, log);
  // The SDK hands our AuthInfo object back to the server factory: it keys the request's Exchange and agent.
  const exchanges = new WeakMap<AuthInfo, Exchange>();
  const agents = new WeakMap<AuthInfo, AgentRequest>();
  const onerror = (error: Error) => log.warn({ err: error.message }, 'MCP endpoint error');

  const oidc = config.security.oidc;
  // RFC 8707: a token issued for this endpoint (its `aud` names the endpoint's URI) is accepted here and at no
  // other endpoint; one for OIDC_AUDIENCE (the whole API) everywhere, as on /graphql.
  const resourceOf = (exchange: Exchange): string | undefined =>
    oidc === null ? undefined : virtualServerEndpointUrl(options.publicOrigin(), exchange.virtualServerId);
  // Where an OAuth client learns how to sign in: only with OIDC configured, and only for a well-formed id
  // (it goes into a header).
  const resourceMetadataOf = (exchange: Exchange): string | undefined =>
    oidc === null || !isUuid(exchange.virtualServerId)
      ? undefined
      : protectedResourceMetadataUrl(options.publicOrigin(), exchange.virtualServerId);

  const admit = async (exchange: Exchange, authorization: string | null): Promise<AgentRequest> => {
    const em = orm.em.fork();
    const admitted = await admission.admit(em, authorization ?? undefined, exchange.clientIp, {
      resource: resourceOf(exchange),
    });
    const viewer = requireAnyScope(admitted, [ApiKeyScope.PROXY]);
    exchange.tenantId = viewer.tenantId;
    exchange.apiKeyId = viewer.apiKeyId;
    exchange.userId = viewer.userId;
    scopeToTenant(em, tenantScopeOf(viewer));
    const id = exchange.virtualServerId;
    const catalog = isUuid(id) ? await catalogs.catalogOf(em, viewer, id) : null;
    // Unknown, another tenant's and inactive read the same.
    if (catalog === null) throw notFound('Virtual server', id);
    const actor = actorOf({ viewer, clientIp: exchange.clientIp });
    return {
      requestId: exchange.requestId,
      em,
      viewer,
      virtualServer: catalog.virtualServer,
      catalog,
      offeringServers: new OfferingServerReads(em, catalog),
      log,
      gateway: {
        viewer,
        actor,
        keyring: options.keyring,
        pubSub: options.pubSub,
        health: config.health,
        gateway: config.gateway,
        upstreams: options.upstreams,
        callFigures: options.callFigures,
        routingRules: options.routingRules,
        metrics: options.metrics,
        auditWrites: options.auditWrites,
      },
      cancellable: () => NEVER_CANCELLED,
    };
  };

  const legacy: LegacyServingDependencies = {
    notifier,
    sessions: new AgentSessions(options.coherence, options.pubSub),
    serverFor: (agent, sessionId) =>
      agentServer(
        sessionId === null ? agent : { ...agent, cancellable: (id) => cancellations.track(sessionId, id) },
      ),
    onCancelled: (sessionId, requestId) => cancellations.cancel({ sessionId, requestId }),
  };

  const modernHandlerOf = (virtualServerId: string) =>
    notifier.handlerOf(virtualServerId, () =>
      createMcpHandler(
        (context) => {
          const agent = context.authInfo === undefined ? undefined : agents.get(context.authInfo);
          if (agent === undefined) throw new Error('an MCP request reached the server without admission');
          return agentServer(agent);
        },
        { legacy: 'reject', onerror, maxRequestBodySize: MAX_PAYLOAD_BYTES },
      ),
    );

  const handler = toNodeHandler(
    {
      async fetch(request: Request, handlerOptions?: McpHandlerRequestOptions): Promise<Response> {
        const authInfo = handlerOptions?.authInfo;
        const exchange = authInfo === undefined ? undefined : exchanges.get(authInfo);
        if (authInfo === undefined || exchange === undefined)
          throw new Error('an MCP request without its exchange');
        const { body, forwarded } = await parsedOnce(request);
        exchange.method = methodOf(request, body);
        let agent: AgentRequest;
        try {
          agent = await admit(exchange, request.headers.get('authorization'));
        } catch (error) {
          if (error instanceof GraphQLError && error.extensions.code !== undefined)
            return refusalOfAdmission(error, resourceMetadataOf(exchange));
          throw error;
        }
        agents.set(authInfo, agent);
        // A tool call's read of its servers overlaps what the SDK does before the call reaches its handler.
        agent.offeringServers.startFor(body);
        if (await isLegacyRequest(forwarded, body, { maxRequestBodySize: MAX_PAYLOAD_BYTES })) {
          return serveLegacy(legacy, forwarded, agent, body);
        }
        return modernHandlerOf(agent.virtualServer.id).fetch(forwarded, { authInfo, parsedBody: body });
      },
    },
    { onerror, maxRequestBodySize: MAX_PAYLOAD_BYTES },
  );

  const router = Router();
  if (oidc !== null) router.use(protectedResourceRoutes(oidc, options.publicOrigin));
  router.all(
    '/mcp/:virtualServerId',
    assignRequestId,
    MCP_CORS,
    async (req: ExpressRequest, res: ExpressResponse) => {
      const startedAt = performance.now();
      const createdAt = new Date();
      const exchange: Exchange = {
        requestId: String(res.locals.requestId),
        clientIp: options.clientIpOf(req),
        virtualServerId: String(req.params.virtualServerId),
        method: null,
        tenantId: null,
        apiKeyId: null,
        userId: null,
      };
      const authInfo: AuthInfo = { token: '', clientId: 'mcp-registry-gateway', scopes: [] };
      exchanges.set(authInfo, exchange);
      res.on('finish', () => {
        options.metrics.mcpRequests.inc({
          method: methodLabel(req.method, exchange.method),
          status: res.statusCode,
        });
        options.requestLogs.record({
          requestId: exchange.requestId,
          tenantId: exchange.tenantId,
          apiKeyId: exchange.apiKeyId,
          userId: exchange.userId,
          method: req.method,
          path: `/mcp/${exchange.virtualServerId}`.slice(0, 200),
          operationName: exchange.method,
          statusCode: res.statusCode,
          durationMs: performance.now() - startedAt,
          createdAt,
        });
      });
      const serve = () => handler(Object.assign(req, { auth: authInfo }), res);
      if (!config.tracing.enabled) return serve();
      // A SERVER span per HTTP request, a child of the agent's trace when it sends `traceparent`; the tool
      // calls it makes upstream are its children.
      const traced = startServerSpan('mcp', req.headers, {
        [ATTR_HTTP_REQUEST_METHOD]: req.method,
        [ATTR_HTTP_ROUTE]: '/mcp/{virtualServerId}',
      });
      res.once('close', () => {
        const { span } = traced;
        // Named from the bounded set the metrics count; what the client sent is an attribute.
        span.updateName(methodLabel(req.method, exchange.method));
        if (exchange.method !== null) span.setAttribute(ATTR.MCP_METHOD_NAME, exchange.method);
        const sessionId = res.getHeader('mcp-session-id') ?? req.headers['mcp-session-id'];
        if (typeof sessionId === 'string') span.setAttribute(ATTR.MCP_SESSION_ID, sessionId);
        span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, res.statusCode);
        span.end();
      });
      await withContext(traced.context, serve);
    },
  );

  return {
    router,
    close: async () => {
      await Promise.allSettled([notifier.close(), cancellations.close()]);
    },
  };
}

/**
 * A request's body read once, here: the era, the method for the request log, the 2025 session handling and
 * the SDK's transports all take it parsed (`body`, undefined for a GET or DELETE), and none reads `forwarded`'s
 * body again. A POST whose body is empty or not JSON is forwarded with its text, for the SDK to answer as it
 * does (its header checks first, then its parse error).
 */
async function parsedOnce(request: Request): Promise<{ body: unknown; forwarded: Request }> {
  if (request.method !== 'POST') return { body: undefined, forwarded: request };
  const text = await request.text();
  try {
    return { body: JSON.parse(text), forwarded: request };
  } catch {
    return { body: undefined, forwarded: new Request(request, { body: text }) };
  }
}

/** The JSON-RPC method, for the request log: a 2026-07-28 request also names it in `Mcp-Method`. */
function methodOf(request: Request, body: unknown): string | null {
  const named = request.headers.get('mcp-method');
  if (named !== null) return named.slice(0, 255);
  const method = typeof body === 'object' && body !== null && 'method' in body ? body.method : undefined;
  return typeof method === 'string' ? method.slice(0, 255) : null;
}

/** MCP methods counted by name; anything else a client sends is `other`, so the label stays bounded. */
const COUNTED_METHODS = new Set([
  'initialize',
  'notifications/initialized',
  'notifications/cancelled',
  'ping',
  'server/discover',
  'subscriptions/listen',
  'tools/list',
  'tools/call',
  'resources/list',
  'resources/templates/list',
  'resources/read',
  'prompts/list',
  'prompts/get',
]);

function methodLabel(httpMethod: string, method: string | null): string {
  if (httpMethod === 'GET') return 'stream';
  if (httpMethod === 'DELETE') return 'end_session';
  return method !== null && COUNTED_METHODS.has(method) ? method : 'other';
}
