import {
  type Client,
  isJSONRPCErrorResponse,
  ProtocolError,
  ProtocolErrorCode,
  SdkHttpError,
} from '@modelcontextprotocol/client';
import type { JsonObject } from '../graphql/scalars.js';
import type { McpSession } from './mcp-session.js';
import { McpInspectionError } from './probe-outcome.js';

export interface InspectedTool {
  readonly name: string;
  readonly title: string | null;
  readonly description: string | null;
  readonly inputSchema: JsonObject;
  readonly outputSchema: JsonObject | null;
  /** readOnlyHint, destructiveHint, idempotentHint, openWorldHint, title. */
  readonly annotations: JsonObject | null;
}

export interface InspectedResource {
  readonly uri: string;
  readonly name: string;
  readonly mimeType: string | null;
  readonly description: string | null;
}

export interface InspectedResourceTemplate {
  readonly uriTemplate: string;
  readonly name: string;
  readonly mimeType: string | null;
  readonly description: string | null;
}

export interface InspectedPromptArgument {
  readonly name: string;
  readonly description: string | null;
  readonly required: boolean;
}

export interface InspectedPrompt {
  readonly name: string;
  readonly description: string | null;
  readonly arguments: InspectedPromptArgument[];
}

/** Everything a server says about itself. A list is empty when the server does not announce it. */
export interface Inspection {
  readonly protocolVersion: string;
  readonly capabilities: JsonObject;
  /** name, version (title, ...); null for a 2026-07-28 server that does not identify itself. */
  readonly serverInfo: JsonObject | null;
  readonly instructions: string | null;
  readonly tools: InspectedTool[];
  readonly resources: InspectedResource[];
  readonly resourceTemplates: InspectedResourceTemplate[];
  readonly prompts: InspectedPrompt[];
  /** From the start of connect to the last list answer. */
  readonly latencyMs: number;
}

/** Reads what the connected server announced, then every list it announces. */
export async function readInspection(session: McpSession): Promise<Omit<Inspection, 'latencyMs'>> {
  const { client } = session;
  const capabilities = client.getServerCapabilities() ?? {};
  const [tools, resources, resourceTemplates, prompts] = await Promise.all([
    capabilities.tools ? listTools(session) : [],
    capabilities.resources ? listResources(session) : [],
    capabilities.resources ? listResourceTemplates(session) : [],
    capabilities.prompts ? listPrompts(session) : [],
  ]);
  const serverInfo = client.getServerVersion();
  return {
    protocolVersion: negotiatedVersion(client),
    capabilities: toJson(capabilities),
    serverInfo: serverInfo ? toJson(serverInfo) : null,
    instructions: client.getInstructions() ?? null,
    tools,
    resources,
    resourceTemplates,
    prompts,
  };
}

/** The version the connect negotiated (`initialize` or `server/discover`). */
export function negotiatedVersion(client: Client): string {
  const version = client.getNegotiatedProtocolVersion();
  if (version === undefined) {
    throw new McpInspectionError('protocol_error', 'protocol error: no protocol version was negotiated');
  }
  return version;
}

// The list calls below, given no cursor, make the SDK follow every `nextCursor` and return all pages.
// 'bypass' skips its response cache: a fresh client has nothing cached, and nothing should be kept.

async function listTools({ client, requestOptions }: McpSession): Promise<InspectedTool[]> {
  const { tools } = await client.listTools(undefined, { ...requestOptions(), cacheMode: 'bypass' });
  return tools.map((tool) => ({
    name: tool.name,
    title: tool.title ?? null,
    description: tool.description ?? null,
    inputSchema: toJson(tool.inputSchema),
    outputSchema: tool.outputSchema ? toJson(tool.outputSchema) : null,
    annotations: tool.annotations ? toJson(tool.annotations) : null,
  }));
}

async function listResources({ client, requestOptions }: McpSession): Promise<InspectedResource[]> {
  const { resources } = await client.listResources(undefined, { ...requestOptions(), cacheMode: 'bypass' });
  return resources.map((resource) => ({
    uri: resource.uri,
    name: resource.name,
    mimeType: resource.mimeType ?? null,
    description: resource.description ?? null,
  }));
}

// Many servers announce `resources` without implementing `resources/templates/list`: that means none.
async function listResourceTemplates({
  client,
  requestOptions,
}: McpSession): Promise<InspectedResourceTemplate[]> {
  const { resourceTemplates } = await client
    .listResourceTemplates(undefined, { ...requestOptions(), cacheMode: 'bypass' })
    .catch((error: unknown) => {
      if (isMethodNotFound(error)) return { resourceTemplates: [] };
      throw error;
    });
  return resourceTemplates.map((template) => ({
    uriTemplate: template.uriTemplate,
    name: template.name,
    mimeType: template.mimeType ?? null,
    description: template.description ?? null,
  }));
}

async function listPrompts({ client, requestOptions }: McpSession): Promise<InspectedPrompt[]> {
  const { prompts } = await client.listPrompts(undefined, { ...requestOptions(), cacheMode: 'bypass' });
  return prompts.map((prompt) => ({
    name: prompt.name,
    description: prompt.description ?? null,
    arguments: (prompt.arguments ?? []).map((argument) => ({
      name: argument.name,
      description: argument.description ?? null,
      required: argument.required ?? false,
    })),
  }));
}

function isMethodNotFound(error: unknown): boolean {
  if (error instanceof ProtocolError) return error.code === ProtocolErrorCode.MethodNotFound;
  // A 2026-07-28 server answers an unknown method with HTTP 404 and the JSON-RPC error as the body; the
  // SDK client rejects with an SdkHttpError carrying that body as text, not with a ProtocolError.
  if (!(error instanceof SdkHttpError) || error.status !== 404 || typeof error.data.text !== 'string') {
    return false;
  }
  try {
    const body: unknown = JSON.parse(error.data.text);
    return isJSONRPCErrorResponse(body) && body.error.code === ProtocolErrorCode.MethodNotFound;
  } catch {
    return false;
  }
}

/** A plain JSON copy of what the SDK parsed (drops undefined members and SDK-internal references). */
function toJson(value: object): JsonObject {
  return JSON.parse(JSON.stringify(value));
}
