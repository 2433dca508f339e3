import type { EntityManager } from '../db/orm.js';
import { accessScopeKey, type Viewer } from '../graphql/access.js';
import type { Coherence } from '../pubsub/coherence.js';
import { CoherentCache } from '../pubsub/coherent-cache.js';
import { exposedTools, membersOf } from '../virtual/virtual-catalog.js';
import { VirtualServer } from '../virtual/virtual-server.entity.js';
import type { ExposedTool } from '../virtual/virtual-tools.js';
import { CATALOG_CHANGED } from './catalog-changes.js';

// What every agent request to a virtual server starts from (the virtual server, its members, the tools it
// shows), kept per instance for each virtual server and access scope. It is what the registry says, not what
// is live: health, breakers and headers are read fresh by each call. Every change of it is a
// CATALOG_CHANGED event (catalog-changes.ts), heard here from any instance; while the event bus is down
// nothing is kept.

/** A virtual server as its agents' requests need it. */
export type VirtualServerView = Pick<VirtualServer, 'id' | 'name' | 'description' | 'toolNaming'>;

export interface AgentCatalog {
  readonly virtualServer: VirtualServerView;
  /** The members' servers the access scope may see, in member order. */
  readonly memberServerIds: readonly string[];
  /** What tools/list shows, in its order: each with the member's server and the upstream tool it names. */
  readonly tools: readonly ExposedTool[];
  readonly toolsByName: ReadonlyMap<string, ExposedTool>;
  /**
   * By upstream tool name: the members' servers showing that tool (under whatever name), in member order,
   * the servers that may take its calls. Worked out once per catalog, not on every call.
   */
  readonly offeringServerIds: ReadonlyMap<string, readonly string[]>;
}

export class AgentCatalogs {
  private readonly cache: CoherentCache<AgentCatalog>;

  constructor(coherence: Coherence) {
    // A catalog of a big server holds a thousand tools with their schemas: a few hundred kilobytes each.
    this.cache = new CoherentCache(coherence, { maxEntries: 64, ttlMs: 60_000 });
    coherence.watch(CATALOG_CHANGED, (change) => {
      const virtualServerIds = new Set(change.virtualServerIds);
      const serverIds = new Set(change.serverIds);
      this.cache.invalidate(
        (catalog) =>
          virtualServerIds.has(catalog.virtualServer.id) ||
          catalog.memberServerIds.some((serverId) => serverIds.has(serverId)),
      );
    });
  }

  /**
   * The catalog of the virtual server, when it is active and `em`'s scope (the viewer's) sees it; `null`
   * otherwise. Kept by access scope, so a viewer is only ever given what its own scope read.
   */
  async catalogOf(em: EntityManager, viewer: Viewer, virtualServerId: string): Promise<AgentCatalog | null> {
    const key = `${virtualServerId}\u0000${accessScopeKey(viewer)}`;
    const cached = this.cache.get(key);
    if (cached !== undefined) return cached;
    const ticket = this.cache.ticket();
    const virtualServer = await em.findOne(VirtualServer, { id: virtualServerId });
    if (virtualServer === null || !virtualServer.isActive) return null;
    const members = await membersOf(em, virtualServer);
    const tools = await exposedTools(em, virtualServer, members);
    const memberServerIds = members.map(({ server }) => server.id);
    const catalog: AgentCatalog = {
      virtualServer: {
        id: virtualServer.id,
        name: virtualServer.name,
        description: virtualServer.description,
        toolNaming: virtualServer.toolNaming,
      },
      memberServerIds,
      tools,
      toolsByName: new Map(tools.map((tool) => [tool.name, tool])),
      offeringServerIds: offeringServerIdsOf(memberServerIds, tools),
    };
    this.cache.set(key, catalog, ticket);
    return catalog;
  }
}

function offeringServerIdsOf(
  memberServerIds: readonly string[],
  tools: readonly ExposedTool[],
): ReadonlyMap<string, readonly string[]> {
  const showing = new Map<string, Set<string>>();
  for (const tool of tools) {
    const serverIds = showing.get(tool.toolName) ?? new Set<string>();
    serverIds.add(tool.serverId);
    showing.set(tool.toolName, serverIds);
  }
  return new Map(
    [...showing].map(([toolName, serverIds]) => [
      toolName,
      memberServerIds.filter((serverId) => serverIds.has(serverId)),
    ]),
  );
}
