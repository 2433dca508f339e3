import {
  type CallToolResult,
  type ListPromptsResult,
  type ListResourcesResult,
  type ListResourceTemplatesResult,
  type ListToolsResult,
  type PromptArgument,
  ProtocolError,
  ProtocolErrorCode,
  Server,
  type ServerContext,
} from '@modelcontextprotocol/server';
import { GraphQLError } from 'graphql';
import { ApiError, ErrorCode } from '../graphql/errors.js';
import { CLIENT_INFO } from '../mcp/mcp-session.js';
import { callToolThroughGateway } from '../routing/tool-call.service.js';
import { exposedPrompts, memberResources, membersOf } from '../virtual/virtual-catalog.js';
import type { AgentRequest } from './agent-request.js';
import { pageOf } from './list-pages.js';
import { getPromptFor, readResourceFor } from './upstream-reads.js';

// The MCP server an agent talks to for one request (or one 2025-era event stream): a virtual server's tools,
// resources and prompts, served from the registry and forwarded to the member servers.

/**
 * Builds the SDK's low-level server for `agent`. The same handlers serve both eras: `createMcpHandler`'s
 * 2026-07-28 leg and the 2025-era sessions (legacy-sessions.ts).
 */
export function agentServer(agent: AgentRequest): Server {
  const server = new Server(
    { name: agent.virtualServer.name, version: CLIENT_INFO.version },
    {
      capabilities: {
        tools: { listChanged: true },
        resources: { listChanged: true },
        prompts: { listChanged: true },
      },
      ...(agent.virtualServer.description !== null && { instructions: agent.virtualServer.description }),
    },
  );
  server.setRequestHandler('tools/list', (request) =>
    answered(agent, () => listTools(agent, request.params?.cursor)),
  );
  server.setRequestHandler('tools/call', (request, context) =>
    answered(agent, () => callTool(agent, request.params.name, request.params.arguments, context)),
  );
  server.setRequestHandler('resources/list', (request) =>
    answered(agent, () => listResources(agent, request.params?.cursor)),
  );
  server.setRequestHandler('resources/templates/list', (request) =>
    answered(agent, () => listResourceTemplates(agent, request.params?.cursor)),
  );
  server.setRequestHandler('resources/read', (request, context) =>
    answered(agent, () => readResourceFor(agent, request.params.uri, context.mcpReq.signal)),
  );
  server.setRequestHandler('prompts/list', (request) =>
    answered(agent, () => listPrompts(agent, request.params?.cursor)),
  );
  server.setRequestHandler('prompts/get', (request, context) =>
    answered(agent, () =>
      getPromptFor(agent, request.params.name, request.params.arguments ?? {}, context.mcpReq.signal),
    ),
  );
  return server;
}

async function listTools(agent: AgentRequest, cursor: string | undefined): Promise<ListToolsResult> {
  const { items, nextCursor } = pageOf(agent.catalog.tools, cursor, (tool) => tool.name);
  return {
    tools: items.map((tool) => ({
      name: tool.name,
      ...(tool.description !== null && { description: tool.description }),
      inputSchema: inputSchemaOf(tool.toolSchema),
      ...(isObject(tool.annotations) && { annotations: tool.annotations }),
    })),
    ...(nextCursor !== undefined && { nextCursor }),
  };
}

/**
 * The exposed name names one member's tool; the call goes through the gateway's routing with that member
 * first and the other members offering the same upstream tool as fail-over. When no server can take it, the
 * agent gets a tool error saying which servers were skipped or tried and why (never a hang).
 */
async function callTool(
  agent: AgentRequest,
  name: string,
  args: Record<string, unknown> | undefined,
  context: ServerContext,
): Promise<CallToolResult> {
  const { catalog } = agent;
  const tool = catalog.toolsByName.get(name);
  if (tool === undefined) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Unknown tool: ${name}`);
  // As they are now (health, connections, endpoint, headers, breaker: what routing decides on), read in the
  // request's scope, in member order; every member showing the same upstream tool may take the call.
  const offering = await agent.offeringServers.of(name);
  const progressToken = context.mcpReq._meta?.progressToken;
  const cancellable = agent.cancellable(context.mcpReq.id);
  try {
    const result = await callToolThroughGateway(agent.em, agent.gateway, {
      toolName: tool.toolName,
      arguments: args ?? {},
      virtualServer: {
        id: agent.virtualServer.id,
        offeringServers: offering,
        preferredServerId: tool.serverId,
      },
      signal: AbortSignal.any([context.mcpReq.signal, cancellable.signal]),
      ...(progressToken !== undefined && {
        onProgress: (progress) => {
          context.mcpReq
            .notify({ method: 'notifications/progress', params: { ...progress, progressToken } })
            .catch(() => {});
        },
      }),
    });
    return {
      content: result.content as CallToolResult['content'],
      ...(result.structuredContent !== null && {
        structuredContent: result.structuredContent as CallToolResult['structuredContent'],
      }),
      ...(result.isError && { isError: true }),
    };
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    return { content: [{ type: 'text', text: toolErrorText(error) }], isError: true };
  } finally {
    cancellable.release();
  }
}

/** What the agent reads when the gateway could not get an answer: the reason, and each server's fate. */
function toolErrorText(error: ApiError): string {
  const { skipped, failures } = error.extensions;
  const lines = [error.message];
  if (Array.isArray(skipped)) {
    for (const skip of skipped)
      lines.push(`- server ${String(skip?.serverId)} skipped: ${String(skip?.reason)}`);
  }
  if (Array.isArray(failures)) {
    for (const failure of failures) {
      const why = failure?.message === undefined ? '' : ` (${String(failure.message)})`;
      lines.push(`- server ${String(failure?.serverId)} failed: ${String(failure?.outcome)}${why}`);
    }
  }
  return lines.join('\n');
}

async function listResources(agent: AgentRequest, cursor: string | undefined): Promise<ListResourcesResult> {
  const members = await membersOf(agent.em, agent.virtualServer);
  const resources = await memberResources(agent.em, members, false);
  const { items, nextCursor } = pageOf(resources, cursor, (resource) => resource.uriTemplate);
  return {
    resources: items.map((resource) => ({
      uri: resource.uriTemplate,
      name: resource.name ?? resource.uriTemplate,
      ...(resource.description !== null && { description: resource.description }),
      ...(resource.mimeType !== null && { mimeType: resource.mimeType }),
    })),
    ...(nextCursor !== undefined && { nextCursor }),
  };
}

async function listResourceTemplates(
  agent: AgentRequest,
  cursor: string | undefined,
): Promise<ListResourceTemplatesResult> {
  const members = await membersOf(agent.em, agent.virtualServer);
  const templates = await memberResources(agent.em, members, true);
  const { items, nextCursor } = pageOf(templates, cursor, (template) => template.uriTemplate);
  return {
    resourceTemplates: items.map((template) => ({
      uriTemplate: template.uriTemplate,
      name: template.name ?? template.uriTemplate,
      ...(template.description !== null && { description: template.description }),
      ...(template.mimeType !== null && { mimeType: template.mimeType }),
    })),
    ...(nextCursor !== undefined && { nextCursor }),
  };
}

async function listPrompts(agent: AgentRequest, cursor: string | undefined): Promise<ListPromptsResult> {
  const members = await membersOf(agent.em, agent.virtualServer);
  const prompts = await exposedPrompts(agent.em, agent.virtualServer, members);
  const { items, nextCursor } = pageOf(prompts, cursor, (prompt) => prompt.name);
  return {
    prompts: items.map((prompt) => ({
      name: prompt.name,
      ...(prompt.description !== null && { description: prompt.description }),
      ...(Array.isArray(prompt.arguments) && { arguments: prompt.arguments.flatMap(promptArgumentOf) }),
    })),
    ...(nextCursor !== undefined && { nextCursor }),
  };
}

/**
 * Runs a handler. What the gateway refuses (bad input, not found) goes to the agent as an MCP error with a
 * clear message; anything unexpected is logged and answered as an internal error naming the request id,
 * never with its message or stack.
 */
async function answered<T>(agent: AgentRequest, handle: () => Promise<T>): Promise<T> {
  try {
    return await handle();
  } catch (error) {
    if (error instanceof ProtocolError) throw error;
    if (error instanceof GraphQLError && error.extensions.code !== undefined) {
      const code = error.extensions.code;
      throw new ProtocolError(
        code === ErrorCode.NOT_FOUND || code === ErrorCode.BAD_USER_INPUT
          ? ProtocolErrorCode.InvalidParams
          : ProtocolErrorCode.InternalError,
        error.message,
        { code },
      );
    }
    agent.log.error({ err: error, requestId: agent.requestId }, 'MCP request failed');
    throw new ProtocolError(
      ProtocolErrorCode.InternalError,
      `Internal error (request ${agent.requestId}): the gateway could not answer.`,
    );
  }
}

/** A stored prompt argument as MCP has it: absent fields left out rather than null. */
function promptArgumentOf(stored: unknown): PromptArgument[] {
  if (!isObject(stored) || typeof stored.name !== 'string') return [];
  return [
    {
      name: stored.name,
      ...(typeof stored.description === 'string' && { description: stored.description }),
      ...(typeof stored.required === 'boolean' && { required: stored.required }),
    },
  ];
}

/** MCP requires an object schema; a tool stored without one (`{}`) takes any object. */
function inputSchemaOf(schema: unknown): ListToolsResult['tools'][number]['inputSchema'] {
  if (isObject(schema) && schema.type === 'object')
    return schema as ListToolsResult['tools'][number]['inputSchema'];
  return { type: 'object' };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
