import { ProbeOutcome } from '../health/health-check.entity.js';
import { ServerStatus } from '../registry/registry.enums.js';
import { CHECK_INTERVAL_MS, type PlannedServer } from './fleet.js';
import { type Random, Weighted } from './random.js';
import type { HealthCheckRow } from './tables.js';

/**
 * Recent probe history: `perServer` probes one interval apart, ending at the server's last check. Servers
 * never checked (UNKNOWN) have none. A server that is unhealthy now was healthy until its last few probes.
 */
export function healthCheckCount(servers: readonly PlannedServer[], perServer: number): number {
  return servers.filter((server) => server.row.lastHealthCheckAt !== null).length * perServer;
}

const FAILURES = new Weighted<[ProbeOutcome, (host: string) => string]>([
  [[ProbeOutcome.TIMEOUT, () => 'The server did not answer within 5000 ms.'], 45],
  [[ProbeOutcome.UNREACHABLE, (host) => `connect ECONNREFUSED ${host}:443`], 30],
  [
    [ProbeOutcome.PROTOCOL_ERROR, () => 'initialize failed: invalid JSON-RPC response (unexpected token <)'],
    15,
  ],
  [[ProbeOutcome.AUTH_FAILED, () => 'HTTP 401 Unauthorized: the connection headers were rejected.'], 10],
]);

export function* healthCheckRows(
  random: Random,
  servers: readonly PlannedServer[],
  perServer: number,
): Generator<HealthCheckRow> {
  for (const { row } of servers) {
    if (row.lastHealthCheckAt === null) continue;
    const status = row.healthStatus as ServerStatus;
    const failingTail = status === ServerStatus.UNHEALTHY ? Math.min(perServer, row.consecutiveFailures) : 0;
    for (let i = perServer - 1; i >= 0; i--) {
      const checkedAt = row.lastHealthCheckAt - i * CHECK_INTERVAL_MS - random.int(0, 500);
      const failing = i < failingTail || (status === ServerStatus.DEGRADED && random.chance(0.15));
      const latency = row.avgResponseTime ?? 150;
      if (failing) {
        const [outcome, message] = FAILURES.pick(random);
        yield {
          id: random.uuid(),
          serverId: row.id,
          checkedAt,
          status: i < failingTail ? ServerStatus.UNHEALTHY : status,
          outcome,
          responseTimeMs: outcome === ProbeOutcome.TIMEOUT ? 5000 : null,
          protocolVersion: null,
          error: message(`10.${random.int(0, 255)}.${random.int(0, 255)}.${random.int(1, 254)}`),
        };
      } else {
        yield {
          id: random.uuid(),
          serverId: row.id,
          checkedAt,
          status:
            status === ServerStatus.UNHEALTHY || status === ServerStatus.MAINTENANCE
              ? ServerStatus.HEALTHY
              : status,
          outcome: ProbeOutcome.OK,
          responseTimeMs: Number(random.logNormal(latency, 0.35).toFixed(2)),
          protocolVersion: row.protocolVersion,
          error: null,
        };
      }
    }
  }
}
