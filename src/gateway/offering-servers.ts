import type { EntityManager } from '../db/orm.js';
import { type RoutedServer, routedServers } from '../routing/routed-servers.js';
import type { AgentCatalog } from './agent-catalogs.js';

// The servers that may take an agent's call of one exposed tool, as routing decides on them (health,
// connections, endpoint, headers, breaker), read fresh in the request's scope. A request whose body is a
// `tools/call` starts the read as soon as it is admitted (mcp-endpoint.ts), so its round trip to the database
// runs while the SDK parses and dispatches the request instead of after it; the call takes that read.

export class OfferingServerReads {
  /** Reads started ahead of their call, by exposed tool name; each is taken by one call only. */
  private readonly ahead = new Map<string, Promise<RoutedServer[]>>();

  constructor(
    private readonly em: EntityManager,
    private readonly catalog: AgentCatalog,
  ) {}

  /** Starts the read for the tool a single `tools/call` request names (nothing for anything else). */
  startFor(body: unknown): void {
    const name = calledToolOf(body);
    if (name === null || this.ahead.has(name) || !this.catalog.toolsByName.has(name)) return;
    const read = this.read(name);
    // Taken and awaited by the call; a request the SDK refuses before its handler leaves it unobserved.
    read.catch(() => {});
    this.ahead.set(name, read);
  }

  /** The servers offering the exposed tool `name`, in member order: the read started ahead, else a new one. */
  of(name: string): Promise<RoutedServer[]> {
    const started = this.ahead.get(name);
    if (started === undefined) return this.read(name);
    this.ahead.delete(name);
    return started;
  }

  private read(name: string): Promise<RoutedServer[]> {
    const tool = this.catalog.toolsByName.get(name);
    if (tool === undefined) return Promise.resolve([]);
    // Every member showing the same upstream tool (under whatever name) may take the call.
    return routedServers(this.em, this.catalog.offeringServerIds.get(tool.toolName) ?? []);
  }
}

/** The tool a body that is one JSON-RPC `tools/call` request names; null for any other body. */
function calledToolOf(body: unknown): string | null {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return null;
  const { method, params } = body as { method?: unknown; params?: unknown };
  if (method !== 'tools/call' || typeof params !== 'object' || params === null) return null;
  const { name } = params as { name?: unknown };
  return typeof name === 'string' ? name : null;
}
