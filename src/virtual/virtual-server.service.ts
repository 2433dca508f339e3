import { type AuditActor, audited } from '../audit/audit-trail.js';
import type { EntityManager } from '../db/orm.js';
import { requireTenantWideKey, type Viewer } from '../graphql/access.js';
import { badUserInput, notFound } from '../graphql/errors.js';
import { type Connection, findPage, type PageRequest } from '../graphql/pagination.js';
import { isUuid, requireName } from '../graphql/validate.js';
import { MCPServer } from '../registry/mcp-server.entity.js';
import { targetTenant } from '../registry/server.service.js';
import { ServerTool } from '../registry/server-tool.entity.js';
import { Tenant } from '../tenants/tenant.entity.js';
import { ToolNaming } from './virtual.enums.js';
import type {
  CreateVirtualServerInput,
  UpdateVirtualServerInput,
  VirtualServerMemberInput,
} from './virtual.inputs.js';
import { VirtualServer } from './virtual-server.entity.js';
import { type ToolOverride, VirtualServerMember } from './virtual-server-member.entity.js';
import { defaultPrefix, exposeTools, PREFIX, TOOL_NAME } from './virtual-tools.js';

export const VIRTUAL_LIMITS = {
  membersPerServer: 50,
  toolNamesPerMember: 500,
  overridesPerMember: 500,
} as const;

export function listVirtualServers(em: EntityManager, page: PageRequest): Promise<Connection<VirtualServer>> {
  return findPage(em, VirtualServer, {}, page, { field: 'name', direction: 'ASC' });
}

/** A virtual server the viewer may see; NOT_FOUND for any other id, exactly like an unknown one. */
export async function findVisibleVirtualServer(em: EntityManager, id: string): Promise<VirtualServer> {
  const found = isUuid(id) ? await em.findOne(VirtualServer, { id }) : null;
  if (!found) throw notFound('VirtualServer', id);
  return found;
}

/**
 * A virtual server offers tools of the tenant's servers to every agent with its endpoint: a key limited to
 * some servers may read them (seeing only its servers' members) but not shape them.
 */
const requireUnlimitedKey = (viewer: Viewer) => requireTenantWideKey(viewer, 'virtual servers');

interface ValidatedMember {
  readonly server: MCPServer;
  readonly toolNames: string[] | null;
  readonly prefix: string;
  readonly overrides: ToolOverride[];
}

/**
 * The members as given, each a server of the virtual server's tenant that the caller may see (NOT_FOUND
 * otherwise), with tool names, prefixes and overrides checked against what the registry has; and the naming
 * refused when two members would show agents the same name.
 */
async function validateMembers(
  em: EntityManager,
  tenantId: string,
  naming: ToolNaming,
  inputs: readonly VirtualServerMemberInput[],
): Promise<ValidatedMember[]> {
  if (inputs.length === 0 || inputs.length > VIRTUAL_LIMITS.membersPerServer) {
    throw badUserInput(`"members" must name 1 to ${VIRTUAL_LIMITS.membersPerServer} servers.`, 'members');
  }
  const ids = inputs.map((input) => input.serverId);
  if (new Set(ids).size !== ids.length) throw badUserInput('"members" names a server twice.', 'members');
  const wellFormed = ids.filter(isUuid);
  const servers = wellFormed.length > 0 ? await em.find(MCPServer, { id: { $in: wellFormed } }) : [];
  const byId = new Map(servers.map((server) => [server.id, server]));
  for (const id of ids) {
    const server = byId.get(id);
    // Another tenant's server reads like an unknown one, for admins too: a virtual server has one tenant.
    if (server === undefined || server.tenant.id !== tenantId) throw notFound('Server', id);
  }
  const tools = await em.find(ServerTool, { server: { $in: ids } }, { orderBy: { name: 'ASC' } });
  const toolsOf = (serverId: string) => tools.filter((tool) => tool.server.id === serverId);

  const members = inputs.map((input): ValidatedMember => {
    const server = byId.get(input.serverId) as MCPServer;
    const known = new Set(toolsOf(server.id).map((tool) => tool.name));
    const toolNames = input.toolNames ?? null;
    if (toolNames !== null) {
      if (toolNames.length === 0 || toolNames.length > VIRTUAL_LIMITS.toolNamesPerMember) {
        throw badUserInput(
          `"toolNames" must name 1 to ${VIRTUAL_LIMITS.toolNamesPerMember} tools, or be left out for all.`,
          'toolNames',
        );
      }
      const unknown = toolNames.find((name) => !known.has(name));
      if (unknown !== undefined) {
        throw badUserInput(`Server "${server.name}" has no tool "${unknown}".`, 'toolNames');
      }
    }
    const prefix = input.prefix ?? defaultPrefix(server.name);
    if (!PREFIX.test(prefix)) {
      throw badUserInput('"prefix" must be 1 to 64 of the characters A-Z a-z 0-9 _ - .', 'prefix');
    }
    const overrides = (input.overrides ?? []).map((override) => {
      if (!known.has(override.toolName)) {
        throw badUserInput(`Server "${server.name}" has no tool "${override.toolName}".`, 'overrides');
      }
      if (override.name != null && !TOOL_NAME.test(override.name)) {
        throw badUserInput(
          `"${override.name}" is not a tool name agents accept: 1 to 128 of A-Z a-z 0-9 _ - .`,
          'overrides',
        );
      }
      return {
        toolName: override.toolName,
        name: override.name ?? null,
        description: override.description ?? null,
      };
    });
    if (overrides.length > VIRTUAL_LIMITS.overridesPerMember) {
      throw badUserInput(`At most ${VIRTUAL_LIMITS.overridesPerMember} overrides per member.`, 'overrides');
    }
    return { server, toolNames, prefix, overrides };
  });

  refuseClashes(naming, members, tools);
  return members;
}

/** Refuses `naming` when two members would show agents the same name, naming the tool and both servers. */
function refuseClashes(
  naming: ToolNaming,
  members: readonly ValidatedMember[],
  tools: readonly ServerTool[],
) {
  const { conflicts } = exposeTools(
    naming,
    members.map((member) => ({
      serverId: member.server.id,
      serverName: member.server.name,
      prefix: member.prefix,
      toolNames: member.toolNames,
      overrides: member.overrides,
      tools: tools.filter((tool) => tool.server.id === member.server.id),
    })),
  );
  const conflict = conflicts[0];
  if (conflict !== undefined) {
    throw badUserInput(
      `Two members would show agents the tool "${conflict.name}": servers "${conflict.serverNames[0]}" and ` +
        `"${conflict.serverNames[1]}". Use PREFIXED or ON_CONFLICT naming, or rename one with an override.`,
      'members',
    );
  }
}

function persistMembers(
  em: EntityManager,
  virtualServer: VirtualServer,
  members: readonly ValidatedMember[],
) {
  const ref = em.getReference(VirtualServer, virtualServer.id, { wrapped: true });
  em.persist(
    members.map((member, position) =>
      Object.assign(
        new VirtualServerMember(
          ref,
          em.getReference(MCPServer, member.server.id, { wrapped: true }),
          position,
          member.prefix,
        ),
        { toolNames: member.toolNames, overrides: member.overrides },
      ),
    ),
  );
}

export function createVirtualServer(
  em: EntityManager,
  actor: AuditActor,
  viewer: Viewer,
  input: CreateVirtualServerInput,
): Promise<VirtualServer> {
  const entry = { action: 'virtual_server.create', resourceType: 'virtual_server' };
  return audited(em, actor, entry, async (tx) => {
    requireUnlimitedKey(viewer);
    const name = requireName(input.name, 'name');
    const tenant = await targetTenant(tx, viewer, input.tenantId);
    const naming = input.toolNaming ?? ToolNaming.PREFIXED;
    const members = await validateMembers(tx, tenant.id, naming, input.members);
    const created = new VirtualServer(tx.getReference(Tenant, tenant.id, { wrapped: true }), name);
    created.description = input.description ?? null;
    created.toolNaming = naming;
    created.isActive = input.isActive ?? true;
    tx.persist(created);
    persistMembers(tx, created, members);
    await tx.flush();
    return { result: created, resourceId: created.id };
  });
}

export function updateVirtualServer(
  em: EntityManager,
  actor: AuditActor,
  viewer: Viewer,
  id: string,
  input: UpdateVirtualServerInput,
): Promise<VirtualServer> {
  const entry = { action: 'virtual_server.update', resourceType: 'virtual_server', resourceId: id };
  return audited(em, actor, entry, async (tx) => {
    requireUnlimitedKey(viewer);
    const virtualServer = await findVisibleVirtualServer(tx, id);
    if (input.name != null) virtualServer.name = requireName(input.name, 'name');
    if (input.description !== undefined) virtualServer.description = input.description;
    if (input.isActive != null) virtualServer.isActive = input.isActive;
    if (input.toolNaming != null) virtualServer.toolNaming = input.toolNaming;
    const tenantId = virtualServer.tenant.id;
    if (input.members != null) {
      const members = await validateMembers(tx, tenantId, virtualServer.toolNaming, input.members);
      await tx.nativeDelete(VirtualServerMember, { virtualServer: virtualServer.id });
      persistMembers(tx, virtualServer, members);
    } else if (input.toolNaming != null) {
      // A new naming mode must not make two of the present members clash. Their tools are taken as the
      // registry has them now: one a member chose that has vanished since is no reason to refuse.
      const present = await tx.find(
        VirtualServerMember,
        { virtualServer: virtualServer.id },
        { orderBy: { position: 'ASC' }, populate: ['server'] },
      );
      const serverIds = present.map((member) => member.server.id);
      const tools = await tx.find(ServerTool, { server: { $in: serverIds } });
      refuseClashes(
        virtualServer.toolNaming,
        present.map((member) => ({ ...member, server: member.server.getEntity() })),
        tools,
      );
    }
    await tx.flush();
    return { result: virtualServer, resourceId: virtualServer.id };
  });
}

export function deleteVirtualServer(
  em: EntityManager,
  actor: AuditActor,
  viewer: Viewer,
  id: string,
): Promise<boolean> {
  const entry = { action: 'virtual_server.delete', resourceType: 'virtual_server', resourceId: id };
  return audited(em, actor, entry, async (tx) => {
    requireUnlimitedKey(viewer);
    const virtualServer = await findVisibleVirtualServer(tx, id);
    tx.remove(virtualServer);
    await tx.flush();
    return { result: true, resourceId: id };
  });
}
