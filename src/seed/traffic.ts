import type { SeededAccounts, SeededKey, SeededTenant } from './accounts.js';
import { type Random, Weighted } from './random.js';
import type { RequestLogRow } from './tables.js';
import { Timeline } from './timeline.js';

/**
 * API traffic as the request log records it: the contract's operations in the proportions dashboards and
 * agents send them, mostly from the big tenants, answered 200 with some 4xx and a few 5xx, with log-normal
 * durations around each operation's typical time.
 */

type OperationKind = 'query' | 'mutation' | 'call';

interface Operation {
  readonly name: string | null;
  readonly kind: OperationKind;
  /** Typical duration of a successful request, in milliseconds. */
  readonly medianMs: number;
}

const operation = (name: string | null, kind: OperationKind, medianMs: number) => ({ name, kind, medianMs });

const OPERATIONS = new Weighted<Operation>([
  [operation('ServerList', 'query', 35), 240],
  [operation('ServerDetail', 'query', 30), 140],
  [operation('CallTool', 'call', 220), 140],
  [operation('DashboardOverview', 'query', 80), 120],
  [operation('DiscoverServers', 'query', 25), 100],
  [operation('SearchServers', 'query', 30), 60],
  [operation('Viewer', 'query', 5), 50],
  [operation('TenantUsage', 'query', 40), 30],
  [operation('RequestLogList', 'query', 45), 20],
  [operation('AuditLogList', 'query', 30), 20],
  [operation('ApiKeyList', 'query', 12), 10],
  [operation('UserList', 'query', 12), 10],
  [operation('TenantList', 'query', 15), 10],
  [operation('RoutingRuleList', 'query', 15), 10],
  [operation('Maintenance', 'query', 150), 3],
  [operation('RegisterServer', 'mutation', 120), 10],
  [operation('UpdateServer', 'mutation', 40), 10],
  [operation('CheckServerHealth', 'mutation', 400), 8],
  [operation('RefreshServerCapabilities', 'mutation', 600), 3],
  [operation('ResetCircuitBreaker', 'mutation', 20), 2],
  [operation('DeleteServer', 'mutation', 35), 2],
  [operation('CreateApiKey', 'mutation', 25), 2],
  [operation('RevokeApiKey', 'mutation', 20), 1],
  [operation('UnlockApiKey', 'mutation', 20), 0.5],
  [operation('CreateUser', 'mutation', 25), 1],
  [operation('CreateTenant', 'mutation', 30), 0.2],
  [operation('UpdateTenant', 'mutation', 25), 0.5],
  [operation('CreateRoutingRule', 'mutation', 30), 1],
  [operation('DeleteRoutingRule', 'mutation', 20), 0.5],
  // Anonymous operations (no operation name).
  [operation(null, 'query', 20), 10],
]);

/** Shares of client and server errors per kind of operation. */
const ERROR_RATES: Record<OperationKind, { client: number; server: number }> = {
  query: { client: 0.02, server: 0.003 },
  mutation: { client: 0.06, server: 0.005 },
  call: { client: 0.03, server: 0.03 },
};

const CLIENT_ERRORS = new Weighted([
  [400, 35],
  [404, 30],
  [403, 12],
  [429, 8],
  [401, 5],
]);
const MUTATION_CLIENT_ERRORS = new Weighted([
  [400, 45],
  [409, 20],
  [404, 20],
  [403, 15],
]);
const SERVER_ERRORS = new Weighted([[500, 1]]);
const UPSTREAM_ERRORS = new Weighted([
  [502, 45],
  [503, 35],
  [504, 20],
]);

/** Who sends a request: a tenant's key, a platform admin, or nobody (rejected before it is authenticated). */
type Caller = { readonly tenantId: string | null; readonly key: SeededKey | null };

const DAYS = 30;

export function* requestLogRows(
  random: Random,
  accounts: SeededAccounts,
  serverCounts: ReadonlyMap<string, number>,
  count: number,
  now: number,
): Generator<RequestLogRow> {
  const callers = callerPicker(accounts, serverCounts);
  const timeline = new Timeline(random, now, DAYS);
  for (const createdAt of timeline.timestamps(random, count)) {
    const caller = random.chance(0.004) ? null : callers(random);
    const op = OPERATIONS.pick(random);
    const statusCode = caller === null ? 401 : statusOf(random, op);
    yield {
      id: random.uuid(),
      requestId: random.uuid(),
      tenantId: caller?.tenantId ?? null,
      apiKeyId: caller?.key?.id ?? null,
      method: op.kind === 'query' && random.chance(0.04) ? 'GET' : 'POST',
      path: '/graphql',
      operationName: op.name,
      statusCode,
      durationMs: durationOf(random, op, statusCode),
      createdAt,
    };
  }
}

/** Tenants send traffic roughly in proportion to their fleet; each mostly through its main key. */
function callerPicker(
  accounts: SeededAccounts,
  serverCounts: ReadonlyMap<string, number>,
): (random: Random) => Caller {
  const tenants = new Weighted<SeededTenant>(
    accounts.tenants.map((tenant) => [tenant, (serverCounts.get(tenant.id) ?? 0) + 2] as const),
  );
  const keysOf = new Map(
    accounts.tenants.map((tenant) => {
      const usable = tenant.keys.filter((key) => key.isActive);
      return [tenant.id, new Weighted(usable.map((key, index) => [key, index === 0 ? 8 : 1] as const))];
    }),
  );
  const admin: Caller = { tenantId: null, key: accounts.admin };
  return (random) => {
    if (accounts.tenants.length === 0 || random.chance(0.03)) return admin;
    const tenant = tenants.pick(random);
    return { tenantId: tenant.id, key: (keysOf.get(tenant.id) as Weighted<SeededKey>).pick(random) };
  };
}

function statusOf(random: Random, op: Operation): number {
  const rates = ERROR_RATES[op.kind];
  const draw = random.next();
  if (draw < rates.server) return (op.kind === 'call' ? UPSTREAM_ERRORS : SERVER_ERRORS).pick(random);
  if (draw < rates.server + rates.client) {
    return (op.kind === 'mutation' ? MUTATION_CLIENT_ERRORS : CLIENT_ERRORS).pick(random);
  }
  return 200;
}

function durationOf(random: Random, op: Operation, statusCode: number): number {
  // A gateway timeout takes as long as the timeout.
  if (statusCode === 504) return Math.round(random.between(30_000, 30_050) * 1000) / 1000;
  const median = statusCode >= 400 && statusCode < 500 ? op.medianMs * 0.3 : op.medianMs;
  let duration = random.logNormal(median, 0.55);
  // A small share of slow outliers (cold caches, lock waits, slow upstreams).
  if (random.chance(0.01)) duration *= random.between(4, 10);
  return Math.round(duration * 1000) / 1000;
}
