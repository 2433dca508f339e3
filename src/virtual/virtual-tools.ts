import { ToolNaming } from './virtual.enums.js';
import type { ToolOverride } from './virtual-server-member.entity.js';

// What an agent's tools/list (and prompts/list) shows for a virtual server, computed from the registry alone
// (no upstream round trip): each member's chosen tools, named by the virtual server's naming mode and the
// member's overrides, in name order.

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
  readonly annotations?: unknown;
}

export interface ExposedTool {
  /** As agents see it: unique within the virtual server. */
  readonly name: string;
  readonly description: string | null;
  /** The upstream tool's own name. */
  readonly toolName: string;
  readonly serverId: string;
  readonly toolSchema: unknown;
  readonly annotations?: unknown;
}

/** Two members offering one name where the naming mode does not tell them apart. */
export interface NameConflict {
  readonly name: string;
  readonly serverNames: readonly [string, string];
}

/** A member's items to be named, with the overrides that apply to them. */
interface MemberItems<T> {
  readonly member: Pick<MemberTools, 'serverId' | 'serverName' | 'prefix'>;
  readonly items: readonly T[];
  readonly overrides: readonly ToolOverride[];
}

interface NamedItem<T> {
  readonly name: string;
  readonly description: string | null;
  readonly item: T;
  readonly serverId: string;
}

/**
 * Names the items of the members (in their order) as `naming` says, sorted by name. A name two members would
 * both show is kept by the first and reported as a conflict.
 */
function nameItems<T extends { readonly name: string; readonly description?: string | null }>(
  naming: ToolNaming,
  chosen: readonly MemberItems<T>[],
): { named: NamedItem<T>[]; conflicts: NameConflict[] } {
  const offeredBy = new Map<string, number>();
  for (const { items } of chosen) {
    for (const item of items) offeredBy.set(item.name, (offeredBy.get(item.name) ?? 0) + 1);
  }
  const prefixed = (name: string) =>
    naming === ToolNaming.PREFIXED || (naming === ToolNaming.ON_CONFLICT && (offeredBy.get(name) ?? 0) > 1);

  const byName = new Map<string, { named: NamedItem<T>; serverName: string }>();
  const conflicts: NameConflict[] = [];
  for (const { member, items, overrides } of chosen) {
    for (const item of items) {
      const override = overrides.find((candidate) => candidate.toolName === item.name);
      const name = override?.name ?? (prefixed(item.name) ? `${member.prefix}__${item.name}` : item.name);
      const taken = byName.get(name);
      if (taken !== undefined) {
        conflicts.push({ name, serverNames: [taken.serverName, member.serverName] });
        continue;
      }
      // A name over 128 characters cannot be shown; an override can always give a shorter one.
      if (!TOOL_NAME.test(name)) continue;
      byName.set(name, {
        serverName: member.serverName,
        named: {
          name,
          description: override?.description ?? item.description ?? null,
          item,
          serverId: member.serverId,
        },
      });
    }
  }
  const named = [...byName.values()].map((entry) => entry.named);
  named.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { named, conflicts };
}

/**
 * The tools `members` (in their order) offer under `naming`, by name, and the names that clash. A clash can
 * only be refused when members are set; one that a later discovery brings keeps the first member's tool.
 */
export function exposeTools(
  naming: ToolNaming,
  members: readonly MemberTools[],
): { tools: ExposedTool[]; conflicts: NameConflict[] } {
  const { named, conflicts } = nameItems(
    naming,
    members.map((member) => ({
      member,
      overrides: member.overrides,
      items:
        member.toolNames === null
          ? member.tools
          : member.tools.filter((tool) => member.toolNames?.includes(tool.name)),
    })),
  );
  const tools = named.map(({ name, description, item, serverId }) => ({
    name,
    description,
    toolName: item.name,
    serverId,
    toolSchema: item.toolSchema,
    annotations: item.annotations,
  }));
  return { tools, conflicts };
}

export interface UpstreamPrompt {
  readonly name: string;
  readonly description: string | null;
  readonly arguments: unknown;
}

export interface ExposedPrompt {
  /** As agents see it: named like the tools (the naming mode and prefixes apply; overrides do not). */
  readonly name: string;
  readonly description: string | null;
  /** The upstream prompt's own name. */
  readonly promptName: string;
  readonly serverId: string;
  readonly arguments: unknown;
}

/** The prompts of every member, named like tools; a clash keeps the first member's prompt. */
export function exposePrompts(
  naming: ToolNaming,
  members: readonly (Pick<MemberTools, 'serverId' | 'serverName' | 'prefix'> & {
    readonly prompts: readonly UpstreamPrompt[];
  })[],
): ExposedPrompt[] {
  const { named } = nameItems(
    naming,
    members.map((member) => ({ member, items: member.prompts, overrides: [] })),
  );
  return named.map(({ name, description, item, serverId }) => ({
    name,
    description,
    promptName: item.name,
    serverId,
    arguments: item.arguments,
  }));
}

/** A server's name made into a prefix: runs of other characters become `_`, cut to 64. */
export function defaultPrefix(serverName: string): string {
  const prefix = serverName
    .replace(/[^A-Za-z0-9_.-]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 64);
  return prefix === '' ? 'server' : prefix;
}
