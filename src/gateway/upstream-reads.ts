import {
  type GetPromptResult,
  ProtocolError,
  ProtocolErrorCode,
  type ReadResourceResult,
} from '@modelcontextprotocol/server';
import { getPrompt, McpInspectionError, type McpTarget, readResource } from '../mcp/mcp-client.js';
import { callTargetOf } from '../registry/capabilities.js';
import type { MCPServer } from '../registry/mcp-server.entity.js';
import { routedServers } from '../routing/routed-servers.js';
import { candidateOf } from '../routing/tool-route.js';
import { usableCandidates } from '../routing/usable-candidates.js';
import { exposedPrompts, memberServingUri, membersOf } from '../virtual/virtual-catalog.js';
import type { AgentRequest } from './agent-request.js';

// resources/read and prompts/get of a virtual server, forwarded to the member that serves the URI or the
// prompt. A server whose circuit is OPEN or that is in maintenance is not asked; there is no fail-over, since
// a resource or a prompt is one server's.

export async function readResourceFor(
  agent: AgentRequest,
  uri: string,
  signal: AbortSignal,
): Promise<ReadResourceResult> {
  const members = await membersOf(agent.em, agent.virtualServer);
  const serving = await memberServingUri(agent.em, members, uri);
  if (serving === null) {
    throw new ProtocolError(ProtocolErrorCode.ResourceNotFound, `Resource not found: ${uri}`, { uri });
  }
  const target = await targetOf(agent, serving.server);
  return forwarded(serving.server, () =>
    readResource(agent.gateway.upstreams, target, uri, {
      timeoutMs: agent.gateway.gateway.callTimeoutMs,
      signal,
    }),
  );
}

export async function getPromptFor(
  agent: AgentRequest,
  name: string,
  args: Record<string, string>,
  signal: AbortSignal,
): Promise<GetPromptResult> {
  const members = await membersOf(agent.em, agent.virtualServer);
  const prompts = await exposedPrompts(agent.em, agent.virtualServer, members);
  const prompt = prompts.find((candidate) => candidate.name === name);
  const server = members.find((member) => member.server.id === prompt?.serverId)?.server;
  if (prompt === undefined || server === undefined) {
    throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Unknown prompt: ${name}`);
  }
  const target = await targetOf(agent, server);
  return forwarded(server, () =>
    getPrompt(
      agent.gateway.upstreams,
      target,
      { name: prompt.promptName, arguments: args },
      { timeoutMs: agent.gateway.gateway.callTimeoutMs, signal },
    ),
  );
}

/** Where the server is reached, with its stored headers, once its breaker lets a request through. */
async function targetOf(agent: AgentRequest, server: MCPServer): Promise<McpTarget> {
  const { health, keyring } = agent.gateway;
  const [routed] = await routedServers(agent.em, [server.id]);
  // Refuses an OPEN circuit, maintenance and transports the gateway does not call.
  const [usable] = usableCandidates(routed === undefined ? [] : [candidateOf(routed, 1)], health.allowStdio);
  if (usable === undefined) throw new Error('usableCandidates returned none without refusing');
  return callTargetOf(keyring, usable.server, health.allowStdio);
}

/** The upstream's answer; its failure becomes an MCP error naming the server and what went wrong. */
async function forwarded<T>(server: MCPServer, request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (error) {
    if (!(error instanceof McpInspectionError)) throw error;
    throw new ProtocolError(
      ProtocolErrorCode.InternalError,
      `The server "${server.name}" did not answer: ${error.message}`,
      { serverId: server.id, outcome: error.outcome.toUpperCase() },
    );
  }
}
