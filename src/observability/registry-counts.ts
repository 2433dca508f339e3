import type { Orm } from '../db/orm.js';
import { numberOf } from '../db/raw-values.js';

/**
 * Servers by health status and circuit breakers by state, over every tenant: two grouped counts read when
 * Prometheus scrapes (both tables are small next to tools and history; no request path waits on them).
 */
export async function registryCounts(orm: Orm): Promise<{
  serversByStatus: Map<string, number>;
  circuitsByState: Map<string, number>;
}> {
  const em = orm.em.fork();
  const servers = await em.execute<{ status: string; count: unknown }[]>(
    'select health_status as status, count(*) as count from mcp_servers group by health_status',
  );
  const circuits = await em.execute<{ state: string; count: unknown }[]>(
    'select state, count(*) as count from circuit_breakers group by state',
  );
  return {
    serversByStatus: new Map(servers.map((row) => [row.status.toUpperCase(), numberOf(row.count)])),
    circuitsByState: new Map(circuits.map((row) => [row.state.toUpperCase(), numberOf(row.count)])),
  };
}
