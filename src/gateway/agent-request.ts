import type { EntityManager } from '../db/orm.js';
import type { Viewer } from '../graphql/access.js';
import type { Logger } from '../logger.js';
import type { GatewayDependencies } from '../routing/tool-call-attempt.js';
import type { AgentCatalog, VirtualServerView } from './agent-catalogs.js';
import type { CancellableCall } from './call-cancellations.js';
import type { OfferingServerReads } from './offering-servers.js';

/** One admitted agent request to a virtual server: what every MCP handler of the endpoint works with. */
export interface AgentRequest {
  readonly requestId: string;
  /** Forked for the request and scoped to the viewer's tenant and allowed servers. */
  readonly em: EntityManager;
  readonly viewer: Viewer;
  /** Active, and visible to the viewer. */
  readonly virtualServer: VirtualServerView;
  /** Its members and tools as the viewer's scope sees them (agent-catalogs.ts). */
  readonly catalog: AgentCatalog;
  /** The servers that may take a call of one of its tools, read for this request (offering-servers.ts). */
  readonly offeringServers: OfferingServerReads;
  /** What tool calls go through: the same routing, breakers and audit as `callTool`. */
  readonly gateway: GatewayDependencies;
  readonly log: Logger;
  /**
   * A request of this agent that its client may cancel later: aborts when a 2025-era session sends
   * `notifications/cancelled` for it (on any instance). Never aborts for 2026-07-28 requests, which are
   * cancelled by closing their own HTTP request.
   */
  cancellable(requestId: string | number): CancellableCall;
}
