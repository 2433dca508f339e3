import { type ChangeSet, ChangeSetType } from '@mikro-orm/core';
import { watchCommittedChanges } from '../db/committed-changes.js';
import type { Orm } from '../db/orm.js';
import type { EventPublisher } from '../pubsub/pubsub.js';
import { MCPServer } from '../registry/mcp-server.entity.js';
import { ServerPrompt } from '../registry/server-prompt.entity.js';
import { ServerResource } from '../registry/server-resource.entity.js';
import { ServerTool } from '../registry/server-tool.entity.js';
import { VirtualServer } from '../virtual/virtual-server.entity.js';
import { VirtualServerMember } from '../virtual/virtual-server-member.entity.js';

// What agents connected to virtual servers must hear about: a member server's tools, resources or prompts
// changed (registration, refresh, a list_changed watch, deletion), or a virtual server itself changed
// (membership, naming, deletion). Every write of those goes through the ORM, from any path (GraphQL, health
// checker, capability watcher), so one ORM subscriber sees them all and publishes on the event bus.

export const CATALOG_CHANGED = 'gateway.catalog-changed';

/** The lists of an MCP server whose changes clients are told of (`notifications/<list>/list_changed`). */
export type CatalogList = 'tools' | 'resources' | 'prompts';

/**
 * Which servers' catalogs and which virtual servers changed, in one committed write, and which lists that
 * touched: a virtual server's own change (membership, naming) may change all three.
 */
export interface CatalogChange {
  readonly serverIds: string[];
  readonly virtualServerIds: string[];
  readonly lists: CatalogList[];
}

declare module '../pubsub/event-topics.js' {
  interface EventTopics {
    [CATALOG_CHANGED]: CatalogChange;
  }
}

/**
 * Every committed change of a virtual server's catalog made through `orm` is published on `bus`, once the
 * write that made it is committed, so an agent told about it lists the new state.
 */
export function publishCatalogChanges(orm: Orm, bus: EventPublisher): void {
  watchCommittedChanges(orm, {
    changeOf,
    merge: merged,
    committed: (change) => bus.publish(CATALOG_CHANGED, change),
  });
}

const ALL_LISTS: readonly CatalogList[] = ['tools', 'resources', 'prompts'];

function changeOf(changeSets: readonly ChangeSet<object>[]): CatalogChange | null {
  const serverIds = new Set<string>();
  const virtualServerIds = new Set<string>();
  const lists = new Set<CatalogList>();
  const serverList = (serverId: string, list: CatalogList) => {
    serverIds.add(serverId);
    lists.add(list);
  };
  for (const { entity, type } of changeSets) {
    if (entity instanceof ServerTool) serverList(entity.server.id, 'tools');
    else if (entity instanceof ServerResource) serverList(entity.server.id, 'resources');
    else if (entity instanceof ServerPrompt) serverList(entity.server.id, 'prompts');
    else if (entity instanceof MCPServer && type === ChangeSetType.DELETE) {
      serverIds.add(entity.id);
      for (const list of ALL_LISTS) lists.add(list);
    } else if (entity instanceof VirtualServer || entity instanceof VirtualServerMember) {
      virtualServerIds.add(entity instanceof VirtualServer ? entity.id : entity.virtualServer.id);
      for (const list of ALL_LISTS) lists.add(list);
    }
  }
  if (serverIds.size === 0 && virtualServerIds.size === 0) return null;
  return { serverIds: [...serverIds], virtualServerIds: [...virtualServerIds], lists: [...lists] };
}

function merged(a: CatalogChange, b: CatalogChange): CatalogChange {
  return {
    serverIds: [...new Set([...a.serverIds, ...b.serverIds])],
    virtualServerIds: [...new Set([...a.virtualServerIds, ...b.virtualServerIds])],
    lists: [...new Set([...a.lists, ...b.lists])],
  };
}
