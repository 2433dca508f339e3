import type { JsonObject } from '../graphql/scalars.js';
import { CircuitBreakerState, ServerStatus, TransportType } from '../registry/registry.enums.js';
import { isUriTemplate, uriTemplateToRegex } from '../registry/uri-template.js';
import type { SeededTenant } from './accounts.js';
import { CATEGORIES, type Category, TEAMS } from './catalog.js';
import { type Random, Weighted } from './random.js';
import type { CircuitBreakerRow, PromptRow, ResourceRow, ServerRow } from './tables.js';
import { HOUR_MS } from './timeline.js';

/**
 * The servers: spread over tenants (a few big tenants, a long tail), over kinds of server, transports and
 * health states, each with its circuit breaker, resources and prompts. Tools and probe history are many
 * more rows and are generated from these plans as they are written (see capabilities.ts, probes.ts).
 */

export interface PlannedServer {
  readonly row: ServerRow;
  readonly breaker: CircuitBreakerRow;
  readonly category: Category;
  readonly tenant: SeededTenant;
  readonly resources: readonly ResourceRow[];
  readonly prompts: readonly PromptRow[];
}

/** How often the health checker probes a server (its default interval). */
export const CHECK_INTERVAL_MS = 30_000;

const STATUSES = new Weighted<ServerStatus>([
  [ServerStatus.HEALTHY, 72],
  [ServerStatus.DEGRADED, 11],
  [ServerStatus.UNHEALTHY, 7],
  [ServerStatus.UNKNOWN, 6],
  [ServerStatus.MAINTENANCE, 4],
]);

const TRANSPORTS = new Weighted<TransportType>([
  [TransportType.STREAMABLE_HTTP, 62],
  [TransportType.SSE, 15],
  [TransportType.STDIO, 17],
  [TransportType.WEBSOCKET, 6],
]);

const BREAKER_STATES: Record<ServerStatus, Weighted<CircuitBreakerState>> = {
  [ServerStatus.HEALTHY]: new Weighted([
    [CircuitBreakerState.CLOSED, 98],
    [CircuitBreakerState.HALF_OPEN, 2],
  ]),
  [ServerStatus.DEGRADED]: new Weighted([
    [CircuitBreakerState.CLOSED, 80],
    [CircuitBreakerState.HALF_OPEN, 12],
    [CircuitBreakerState.OPEN, 8],
  ]),
  [ServerStatus.UNHEALTHY]: new Weighted([
    [CircuitBreakerState.OPEN, 70],
    [CircuitBreakerState.HALF_OPEN, 15],
    [CircuitBreakerState.CLOSED, 15],
  ]),
  [ServerStatus.UNKNOWN]: new Weighted([[CircuitBreakerState.CLOSED, 1]]),
  [ServerStatus.MAINTENANCE]: new Weighted([
    [CircuitBreakerState.CLOSED, 70],
    [CircuitBreakerState.OPEN, 30],
  ]),
};

const PROTOCOL_VERSIONS = new Weighted([
  ['2025-06-18', 50],
  ['2025-03-26', 35],
  ['2024-11-05', 15],
]);

const ENVIRONMENTS = new Weighted<string | null>([
  ['production', 55],
  ['staging', 25],
  ['development', 15],
  [null, 5],
]);

const CATEGORY_PICKER = new Weighted(CATEGORIES.map((category) => [category, category.weight] as const));

export function planServers(
  random: Random,
  tenants: readonly SeededTenant[],
  count: number,
  now: number,
): PlannedServer[] {
  const tenantPicker = new Weighted(
    tenants.map((tenant, index) => [tenant, 1 / (index + 1) ** 0.8] as const),
  );
  const namesByTenant = new Map<string, Set<string>>();
  return Array.from({ length: count }, (_, index) => {
    // Every tenant gets a server before the big ones get more.
    const tenant = index < tenants.length ? (tenants[index] as SeededTenant) : tenantPicker.pick(random);
    const taken = namesByTenant.get(tenant.id) ?? new Set<string>();
    namesByTenant.set(tenant.id, taken);
    return planServer(random, tenant, taken, now);
  });
}

function planServer(random: Random, tenant: SeededTenant, taken: Set<string>, now: number): PlannedServer {
  const category = CATEGORY_PICKER.pick(random);
  const team = random.pick(TEAMS);
  const name = uniqueName(
    random.chance(0.5) ? random.pick(category.serverNames) : `${random.pick(category.serverNames)}-${team}`,
    taken,
  );
  const transport = TRANSPORTS.pick(random);
  const status = STATUSES.pick(random);
  const createdAt = random.int(tenant.createdAt + HOUR_MS, now - 2 * HOUR_MS);
  const health = healthOf(random, status, now);
  const id = random.uuid();
  const resources = planResources(random, id, category, createdAt);
  const prompts = planPrompts(random, id, category, createdAt);
  const row: ServerRow = {
    id,
    tenantId: tenant.id,
    name,
    description: random.chance(0.9) ? random.pick(category.descriptions).replace('{team}', team) : null,
    endpointUrl: endpointOf(random, transport, category, name, tenant.slug),
    transportType: transport,
    capabilities: capabilitiesOf(random, resources.length > 0, prompts.length > 0),
    protocolVersion: status === ServerStatus.UNKNOWN ? null : PROTOCOL_VERSIONS.pick(random),
    serverInfo:
      status === ServerStatus.UNKNOWN
        ? null
        : { name: `${name}-mcp`, version: `${random.int(0, 3)}.${random.int(0, 20)}.${random.int(0, 9)}` },
    tags: tagsOf(random, category, team),
    healthStatus: status,
    ...health,
    createdAt,
    updatedAt: health.lastHealthCheckAt ?? createdAt,
  };
  return {
    row,
    breaker: breakerOf(random, row, status, now),
    category,
    tenant,
    resources,
    prompts,
  };
}

function uniqueName(base: string, taken: Set<string>): string {
  let name = base;
  for (let n = 2; taken.has(name); n++) name = `${base}-${n}`;
  taken.add(name);
  return name;
}

type HealthFields = Pick<
  ServerRow,
  | 'avgResponseTime'
  | 'successRate'
  | 'activeConnections'
  | 'lastHealthCheckAt'
  | 'consecutiveFailures'
  | 'consecutiveSuccesses'
  | 'nextCheckAt'
  | 'eventVersion'
>;

/** Figures consistent with the status, as the health checker's moving averages would leave them. */
function healthOf(random: Random, status: ServerStatus, now: number): HealthFields {
  if (status === ServerStatus.UNKNOWN) {
    return {
      avgResponseTime: null,
      successRate: 1,
      activeConnections: 0,
      lastHealthCheckAt: null,
      consecutiveFailures: 0,
      consecutiveSuccesses: 0,
      nextCheckAt: now,
      eventVersion: 0,
    };
  }
  const lastHealthCheckAt =
    status === ServerStatus.MAINTENANCE
      ? now - random.int(1, 72) * HOUR_MS
      : now - random.int(0, CHECK_INTERVAL_MS);
  const common = {
    lastHealthCheckAt,
    nextCheckAt: lastHealthCheckAt + CHECK_INTERVAL_MS,
    eventVersion: random.int(1, 40),
  };
  const round = (value: number, digits: number) => Number(value.toFixed(digits));
  switch (status) {
    case ServerStatus.HEALTHY:
      return {
        ...common,
        avgResponseTime: round(Math.min(1900, Math.max(5, random.logNormal(140, 0.6))), 2),
        successRate: round(random.between(0.97, 1), 4),
        activeConnections: Math.round(random.logNormal(6, 0.9)),
        consecutiveFailures: 0,
        consecutiveSuccesses: random.int(2, 500),
      };
    case ServerStatus.DEGRADED:
      return {
        ...common,
        avgResponseTime: round(
          random.chance(0.6) ? Math.max(2001, random.logNormal(2600, 0.3)) : random.logNormal(600, 0.5),
          2,
        ),
        successRate: round(random.between(0.8, 0.97), 4),
        activeConnections: random.int(0, 8),
        consecutiveFailures: random.int(0, 2),
        consecutiveSuccesses: random.int(0, 20),
      };
    case ServerStatus.UNHEALTHY:
      return {
        ...common,
        avgResponseTime: random.chance(0.5) ? null : round(random.logNormal(3500, 0.5), 2),
        successRate: round(random.between(0, 0.5), 4),
        activeConnections: 0,
        consecutiveFailures: random.int(3, 60),
        consecutiveSuccesses: 0,
      };
    default:
      return {
        ...common,
        avgResponseTime: round(random.logNormal(200, 0.5), 2),
        successRate: round(random.between(0.9, 1), 4),
        activeConnections: 0,
        consecutiveFailures: 0,
        consecutiveSuccesses: random.int(0, 100),
      };
  }
}

function endpointOf(
  random: Random,
  transport: TransportType,
  category: Category,
  name: string,
  tenantSlug: string,
): string {
  // `.example` is reserved (RFC 2606): these hosts never resolve, so nothing is ever called by accident.
  const host = `${name}.${tenantSlug}.example`;
  switch (transport) {
    case TransportType.STDIO:
      return random.pick(category.commands);
    case TransportType.SSE:
      return `https://${host}/sse`;
    case TransportType.WEBSOCKET:
      return `wss://${host}/ws`;
    default:
      return `https://${host}/mcp`;
  }
}

function capabilitiesOf(random: Random, resources: boolean, prompts: boolean): JsonObject {
  return {
    tools: { listChanged: random.chance(0.6) },
    ...(resources ? { resources: { subscribe: random.chance(0.3), listChanged: random.chance(0.5) } } : {}),
    ...(prompts ? { prompts: { listChanged: false } } : {}),
    ...(random.chance(0.3) ? { logging: {} } : {}),
    ...(random.chance(0.2) ? { completions: {} } : {}),
  };
}

function tagsOf(random: Random, category: Category, team: string): string[] {
  const tags = random.sample(category.tags, random.int(1, 2));
  const environment = ENVIRONMENTS.pick(random);
  if (environment !== null) tags.push(environment);
  if (random.chance(0.3)) tags.push(`team-${team}`);
  return tags;
}

function breakerOf(random: Random, server: ServerRow, status: ServerStatus, now: number): CircuitBreakerRow {
  const state = BREAKER_STATES[status].pick(random);
  const failureThreshold = random.pick([5, 5, 5, 5, 3, 10]);
  const successThreshold = 2;
  const totalRequests = status === ServerStatus.UNKNOWN ? 0 : Math.round(random.logNormal(2000, 1.2));
  const totalFailures = Math.round(totalRequests * (1 - server.successRate));
  const lastCheck = server.lastHealthCheckAt;
  const failing = state !== CircuitBreakerState.CLOSED || server.consecutiveFailures > 0;
  return {
    id: random.uuid(),
    serverId: server.id,
    state,
    failureCount:
      state === CircuitBreakerState.CLOSED
        ? Math.min(server.consecutiveFailures, failureThreshold - 1)
        : failureThreshold + random.int(0, 5),
    successCount: state === CircuitBreakerState.HALF_OPEN ? random.int(0, successThreshold - 1) : 0,
    failureThreshold,
    successThreshold,
    openTimeoutMs: random.chance(0.8) ? 30_000 : 60_000,
    openedAt: state === CircuitBreakerState.OPEN ? now - random.int(10_000, 45 * 60_000) : null,
    lastFailureAt: totalFailures > 0 || failing ? (lastCheck ?? now) - random.int(0, 6 * HOUR_MS) : null,
    lastSuccessAt: totalRequests > totalFailures ? (lastCheck ?? now) - random.int(0, 60_000) : null,
    totalRequests,
    totalFailures,
    totalSuccesses: totalRequests - totalFailures,
    createdAt: server.createdAt,
    updatedAt: server.updatedAt,
  };
}

function planResources(
  random: Random,
  serverId: string,
  category: Category,
  createdAt: number,
): ResourceRow[] {
  return random.sample(category.resources, random.int(0, category.resources.length)).map((resource) => {
    const template = isUriTemplate(resource.uri);
    return {
      id: random.uuid(),
      serverId,
      uriTemplate: resource.uri,
      isTemplate: template,
      uriRegex: template ? uriTemplateToRegex(resource.uri) : null,
      name: resource.name,
      description: random.chance(0.5) ? `${resource.name} (${template ? 'template' : 'resource'})` : null,
      mimeType: resource.mimeType,
      createdAt,
    };
  });
}

function planPrompts(random: Random, serverId: string, category: Category, createdAt: number): PromptRow[] {
  return random.sample(category.prompts, random.int(0, category.prompts.length)).map((prompt) => ({
    id: random.uuid(),
    serverId,
    name: prompt.name,
    description: prompt.description,
    arguments: prompt.arguments.map((argument) => ({
      name: argument.replace('?', ''),
      description: `The ${argument.replace('?', '').replace('_', ' ')}.`,
      required: !argument.endsWith('?'),
    })),
    createdAt,
  }));
}
