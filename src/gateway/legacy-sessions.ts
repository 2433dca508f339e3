import {
  type InitializeRequest,
  isInitializeRequest,
  isJSONRPCNotification,
  isJSONRPCRequest,
  type Server,
  SUPPORTED_PROTOCOL_VERSIONS,
  WebStandardStreamableHTTPServerTransport,
} from '@modelcontextprotocol/server';
import type { AgentNotifier } from './agent-notifier.js';
import type { AgentRequest } from './agent-request.js';
import type { AgentSessions, KnownSession } from './agent-sessions.js';
import { jsonRpcRefusal } from './http-refusals.js';

// The 2025-era (2025-11-25 and before) side of the endpoint: Streamable HTTP with `Mcp-Session-Id` sessions.
// The session lives in the database, not in one instance: every request is served by a fresh SDK server on a
// stateless transport, after its session is checked, so any instance of a fleet serves any request. A GET opens
// the session's standing stream on the instance it reaches, which relays list changes from the event bus.

const SESSION_HEADER = 'mcp-session-id';

export interface LegacyServingDependencies {
  readonly notifier: AgentNotifier;
  readonly sessions: AgentSessions;
  /** The SDK server for an agent's request (agent-server.ts), with the session's id when it has one. */
  readonly serverFor: (agent: AgentRequest, sessionId: string | null) => Server;
  /** A session sent `notifications/cancelled` for one of its requests. */
  readonly onCancelled: (sessionId: string, requestId: string | number) => void;
}

/**
 * Serves one 2025-era request; `body` is the POST's body as JSON, which the transport takes instead of reading
 * the request again (undefined for other methods, and for a POST whose body is not JSON: the transport reads
 * and refuses it).
 */
export async function serveLegacy(
  deps: LegacyServingDependencies,
  request: Request,
  agent: AgentRequest,
  body: unknown,
): Promise<Response> {
  const sessionId = request.headers.get(SESSION_HEADER);
  if (request.method === 'POST') {
    if (isInitializeRequest(body)) {
      if (sessionId !== null) {
        return jsonRpcRefusal(400, -32600, 'Bad Request: initialize must not carry an Mcp-Session-Id.');
      }
      return initialize(deps, request, agent, body);
    }
  }
  if (request.method !== 'POST' && request.method !== 'GET' && request.method !== 'DELETE') {
    return jsonRpcRefusal(405, -32000, 'Method not allowed.', { allow: 'GET, POST, DELETE' });
  }
  if (sessionId === null) {
    return jsonRpcRefusal(400, -32000, 'Bad Request: Mcp-Session-Id header is required (initialize first).');
  }
  const session = await deps.sessions.find(agent, sessionId);
  if (session === null) return jsonRpcRefusal(404, -32001, 'Session not found: initialize a new session.');
  if (request.method === 'DELETE') {
    await deps.sessions.end(agent, session.id);
    return new Response(null, { status: 200 });
  }
  if (request.method === 'GET') return openStream(deps, request, agent, session);
  relayCancellation(deps, body, session);
  return serveStateless(deps.serverFor(agent, session.id), request, body, { stream: asksForProgress(body) });
}

async function initialize(
  deps: LegacyServingDependencies,
  request: Request,
  agent: AgentRequest,
  body: InitializeRequest,
): Promise<Response> {
  const { params } = body;
  const response = await serveStateless(deps.serverFor(agent, null), request, body);
  if (!response.ok) return response;
  // The SDK answers a version it supports with that version, any other with its latest.
  const protocolVersion = SUPPORTED_PROTOCOL_VERSIONS.includes(params.protocolVersion)
    ? params.protocolVersion
    : (SUPPORTED_PROTOCOL_VERSIONS[0] ?? params.protocolVersion);
  const sessionId = await deps.sessions.open(agent, protocolVersion, params.clientInfo.name);
  const headers = new Headers(response.headers);
  headers.set(SESSION_HEADER, sessionId);
  return new Response(response.body, { status: response.status, headers });
}

/**
 * One request on a fresh server and a stateless transport: nothing of it stays in this instance. The answer
 * is one JSON body unless `stream`: an SSE stream, for a request whose progress notifications must reach the
 * agent before its result.
 */
async function serveStateless(
  server: Server,
  request: Request,
  parsedBody: unknown,
  { stream }: { readonly stream: boolean } = { stream: false },
): Promise<Response> {
  const transport = new WebStandardStreamableHTTPServerTransport({
    sessionIdGenerator: undefined,
    enableJsonResponse: !stream,
  });
  await server.connect(transport);
  return transport.handleRequest(request, { parsedBody });
}

/**
 * The session's standing stream: list changes of its virtual server reach the agent through it while it is
 * open. It ends when the agent disconnects or the gateway stops.
 */
async function openStream(
  deps: LegacyServingDependencies,
  request: Request,
  agent: AgentRequest,
  session: KnownSession,
): Promise<Response> {
  const server = deps.serverFor(agent, session.id);
  const remove = deps.notifier.addStream(agent.virtualServer.id, server);
  server.onclose = remove;
  request.signal.addEventListener('abort', () => void server.close(), { once: true });
  const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined });
  await server.connect(transport);
  const response = await transport.handleRequest(request);
  if (!response.ok) remove();
  return response;
}

/** Whether a request (or one of a batch) carries a progress token, so its notifications must be streamed. */
function asksForProgress(body: unknown): boolean {
  if (Array.isArray(body)) return body.some(asksForProgress);
  return isJSONRPCRequest(body) && body.params?._meta?.progressToken !== undefined;
}

/** `notifications/cancelled` names a request that may be running on any instance: tell them all. */
function relayCancellation(deps: LegacyServingDependencies, body: unknown, session: KnownSession): void {
  if (!isJSONRPCNotification(body) || body.method !== 'notifications/cancelled') return;
  const requestId = body.params?.requestId;
  if (typeof requestId === 'string' || typeof requestId === 'number') deps.onCancelled(session.id, requestId);
}
