import { ToolNaming } from './virtual.enums.js';
import type { ToolOverride } from './virtual-server-member.entity.js';

// What an agent's tools/list shows for a virtual server, computed from the registry alone (no upstream
// round trip): each member's chosen tools, named by the virtual server's naming mode and the member's
// overrides, in name order.

/** A name an agent may be shown: 1 to 128 of `A-Z a-z 0-9 _ - .` (the MCP tool name rules). */
export const TOOL_NAME = /^[A-Za-z0-9_.-]{1,128}$/;
/** A member's prefix: a valid start of a tool name, short enough to leave room for the tool's. */
export const PREFIX = /^[A-Za-z0-9_.-]{1,64}$/;

export interface MemberTools {
  readonly serverId: string;
  readonly serverName: string;
  readonly prefix: string;
  readonly toolNames: readonly string[] | null;
  readonly overrides: readonly ToolOverride[];
  /** The server's tools as the registry has them now. */
  readonly tools: readonly UpstreamTool[];
}

export interface UpstreamTool {
  readonly name: string;
  readonly description: string | null;
  readonly toolSchema: unknown;
}

export interface ExposedTool {
  /** As agents see it: unique within the virtual server. */
  readonly name: string;
  readonly description: string | null;
  /** The upstream tool's own name. */
  readonly toolName: string;
  readonly serverId: string;
  readonly toolSchema: unknown;
}

/** Two members offering one name where the naming mode does not tell them apart. */
export interface NameConflict {
  readonly name: string;
  readonly serverNames: readonly [string, string];
}

/**
 * The tools `members` (in their order) offer under `naming`, by name, and the names that clash. A clash can
 * only be refused when members are set; one that a later discovery brings keeps the first member's tool.
 */
export function exposeTools(
  naming: ToolNaming,
  members: readonly MemberTools[],
): { tools: ExposedTool[]; conflicts: NameConflict[] } {
  const chosen = members.map((member) => ({
    member,
    tools:
      member.toolNames === null
        ? member.tools
        : member.tools.filter((tool) => member.toolNames?.includes(tool.name)),
  }));
  const offeredBy = new Map<string, number>();
  for (const { tools } of chosen) {
    for (const tool of tools) offeredBy.set(tool.name, (offeredBy.get(tool.name) ?? 0) + 1);
  }
  const prefixed = (name: string) =>
    naming === ToolNaming.PREFIXED || (naming === ToolNaming.ON_CONFLICT && (offeredBy.get(name) ?? 0) > 1);

  const byName = new Map<string, { tool: ExposedTool; serverName: string }>();
  const conflicts: NameConflict[] = [];
  for (const { member, tools } of chosen) {
    for (const tool of tools) {
      const override = member.overrides.find((candidate) => candidate.toolName === tool.name);
      const name = override?.name ?? (prefixed(tool.name) ? `${member.prefix}__${tool.name}` : tool.name);
      const taken = byName.get(name);
      if (taken !== undefined) {
        conflicts.push({ name, serverNames: [taken.serverName, member.serverName] });
        continue;
      }
      // A name over 128 characters cannot be shown; an override can always give a shorter one.
      if (!TOOL_NAME.test(name)) continue;
      byName.set(name, {
        serverName: member.serverName,
        tool: {
          name,
          description: override?.description ?? tool.description,
          toolName: tool.name,
          serverId: member.serverId,
          toolSchema: tool.toolSchema,
        },
      });
    }
  }
  const sorted = [...byName.values()].map(({ tool }) => tool);
  sorted.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { tools: sorted, conflicts };
}

/** A server's name made into a prefix: runs of other characters become `_`, cut to 64. */
export function defaultPrefix(serverName: string): string {
  const prefix = serverName
    .replace(/[^A-Za-z0-9_.-]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 64);
  return prefix === '' ? 'server' : prefix;
}
