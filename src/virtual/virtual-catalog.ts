import { raw } from '@mikro-orm/core';
import type { EntityManager } from '../db/orm.js';
import { parsedJson } from '../db/raw-values.js';
import type { MCPServer } from '../registry/mcp-server.entity.js';
import { ServerPrompt } from '../registry/server-prompt.entity.js';
import { ServerResource } from '../registry/server-resource.entity.js';
import type { VirtualServer } from './virtual-server.entity.js';
import { VirtualServerMember } from './virtual-server-member.entity.js';
import {
  type ExposedPrompt,
  type ExposedTool,
  exposePrompts,
  exposeTools,
  type UpstreamTool,
} from './virtual-tools.js';

// What a virtual server offers an agent, read from the registry in the request's scope (a key limited to some
// servers sees only those members): its tools and prompts as named for agents, its resources and resource
// templates, and which member serves a resource URI.

export interface CatalogMember {
  readonly member: VirtualServerMember;
  readonly server: MCPServer;
}

/** The members the request may see, in their order, each with its server: one statement. */
export async function membersOf(
  em: EntityManager,
  virtualServer: Pick<VirtualServer, 'id'>,
): Promise<CatalogMember[]> {
  const members = await em.find(
    VirtualServerMember,
    { virtualServer: virtualServer.id },
    { populate: ['server'], orderBy: { position: 'ASC' } },
  );
  return members.map((member) => ({ member, server: member.server.getEntity() }));
}

/** The tools an agent sees, by name, with their descriptions, schemas and annotations: one statement. */
export async function exposedTools(
  em: EntityManager,
  virtualServer: Pick<VirtualServer, 'toolNaming'>,
  members: readonly CatalogMember[],
): Promise<ExposedTool[]> {
  if (members.length === 0) return [];
  const toolsOf = await memberTools(
    em,
    members.map(({ server }) => server.id),
  );
  return exposeTools(
    virtualServer.toolNaming,
    members.map(({ member, server }) => ({
      serverId: server.id,
      serverName: server.name,
      prefix: member.prefix,
      toolNames: member.toolNames,
      overrides: member.overrides,
      tools: toolsOf.get(server.id) ?? [],
    })),
  ).tools;
}

interface ToolRow {
  readonly server_id: string;
  readonly name: string;
  readonly description: string | null;
  readonly tool_schema: unknown;
  readonly annotations: unknown;
}

/**
 * The tools of the members' servers as plain rows, by server: a virtual server over a big server has a
 * thousand, read on every request, and managed entities of them (with their schemas) would cost more than
 * the rest of the request. The members were read in the request's scope, so their ids are the scope here.
 */
async function memberTools(
  em: EntityManager,
  serverIds: readonly string[],
): Promise<Map<string, UpstreamTool[]>> {
  const rows = await em.execute<ToolRow[]>(
    'select server_id, name, description, tool_schema, annotations from server_tools where server_id in (?)',
    [[...serverIds]],
  );
  const byServer = new Map<string, UpstreamTool[]>();
  for (const row of rows) {
    const tool: UpstreamTool = {
      name: row.name,
      description: row.description,
      toolSchema: parsedJson(row.tool_schema),
      annotations: parsedJson(row.annotations),
    };
    const tools = byServer.get(row.server_id);
    if (tools === undefined) byServer.set(row.server_id, [tool]);
    else tools.push(tool);
  }
  return byServer;
}

/** The prompts an agent sees, by name: one statement. */
export async function exposedPrompts(
  em: EntityManager,
  virtualServer: Pick<VirtualServer, 'toolNaming'>,
  members: readonly CatalogMember[],
): Promise<ExposedPrompt[]> {
  if (members.length === 0) return [];
  const prompts = await em.find(ServerPrompt, { server: { $in: members.map(({ server }) => server.id) } });
  return exposePrompts(
    virtualServer.toolNaming,
    members.map(({ member, server }) => ({
      serverId: server.id,
      serverName: server.name,
      prefix: member.prefix,
      prompts: prompts.filter((prompt) => prompt.server.id === server.id),
    })),
  );
}

/**
 * The resources (or, with `templates`, the resource templates) of every member, URIs unchanged, in member
 * order then URI; a URI two members offer is listed once, for the first (a read goes to it).
 */
export async function memberResources(
  em: EntityManager,
  members: readonly CatalogMember[],
  templates: boolean,
): Promise<ServerResource[]> {
  if (members.length === 0) return [];
  const found = await em.find(
    ServerResource,
    { server: { $in: members.map(({ server }) => server.id) }, isTemplate: templates },
    { orderBy: { uriTemplate: 'ASC' } },
  );
  const listed = new Set<string>();
  const ordered: ServerResource[] = [];
  for (const { server } of members) {
    for (const resource of found.filter((candidate) => candidate.server.id === server.id)) {
      if (listed.has(resource.uriTemplate)) continue;
      listed.add(resource.uriTemplate);
      ordered.push(resource);
    }
  }
  return ordered;
}

/**
 * The member that serves `uri`: the first (in member order) listing it as a resource, else the first with a
 * template that expands to it. One statement; null when none does.
 */
export async function memberServingUri(
  em: EntityManager,
  members: readonly CatalogMember[],
  uri: string,
): Promise<CatalogMember | null> {
  if (members.length === 0) return null;
  const found = await em.find(ServerResource, {
    server: { $in: members.map(({ server }) => server.id) },
    $or: [
      { uriTemplate: uri, isTemplate: false },
      // PostgreSQL's own regular expressions, as stored (uri-template.ts): JavaScript's differ.
      { isTemplate: true, [raw((alias) => `? ~ ${alias}.uri_regex`, [uri])]: true },
    ],
  });
  const exact = members.find(({ server }) =>
    found.some((resource) => resource.server.id === server.id && !resource.isTemplate),
  );
  return (
    exact ?? members.find(({ server }) => found.some((resource) => resource.server.id === server.id)) ?? null
  );
}
