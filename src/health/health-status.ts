import type { HealthSettings } from '../config.js';
import type { MCPServer } from '../registry/mcp-server.entity.js';
import { ServerStatus } from '../registry/registry.enums.js';
import { ProbeOutcome } from './health-check.entity.js';

/** What one probe of a server found. */
export interface ProbeResult {
  readonly outcome: ProbeOutcome;
  /** Time to a complete answer; null when there was none. */
  readonly latencyMs: number | null;
  readonly protocolVersion: string | null;
  readonly error: string | null;
}

type HealthFields = Pick<
  MCPServer,
  'healthStatus' | 'avgResponseTime' | 'successRate' | 'consecutiveFailures' | 'consecutiveSuccesses'
>;

// Moving averages: latency follows recent probes closely, the success rate more slowly.
const LATENCY_WEIGHT = 0.3;
const SUCCESS_WEIGHT = 0.1;

/**
 * Applies one probe to a server's health figures and status.
 * - UNHEALTHY after `unhealthyAfter` consecutive failures; back only after `healthyAfter` consecutive successes.
 * - A failure that is not (yet) enough for UNHEALTHY makes a HEALTHY server DEGRADED (flapping), and so does
 *   an average latency above `degradedLatencyMs` (slow).
 * - MAINTENANCE is set by people, never by probes.
 */
export function applyProbe(server: HealthFields, probe: ProbeResult, settings: HealthSettings): void {
  const ok = probe.outcome === ProbeOutcome.OK;
  server.successRate = server.successRate * (1 - SUCCESS_WEIGHT) + (ok ? SUCCESS_WEIGHT : 0);
  if (ok && probe.latencyMs !== null) {
    server.avgResponseTime =
      server.avgResponseTime === null
        ? probe.latencyMs
        : server.avgResponseTime * (1 - LATENCY_WEIGHT) + probe.latencyMs * LATENCY_WEIGHT;
  }
  server.consecutiveFailures = ok ? 0 : server.consecutiveFailures + 1;
  server.consecutiveSuccesses = ok ? server.consecutiveSuccesses + 1 : 0;
  if (server.healthStatus === ServerStatus.MAINTENANCE) return;
  server.healthStatus = ok ? statusAfterSuccess(server, settings) : statusAfterFailure(server, settings);
}

function statusAfterFailure(server: HealthFields, settings: HealthSettings): ServerStatus {
  if (server.consecutiveFailures >= settings.unhealthyAfter) return ServerStatus.UNHEALTHY;
  return server.healthStatus === ServerStatus.HEALTHY ? ServerStatus.DEGRADED : server.healthStatus;
}

function statusAfterSuccess(server: HealthFields, settings: HealthSettings): ServerStatus {
  const slow = (server.avgResponseTime ?? 0) > settings.degradedLatencyMs;
  const working = slow ? ServerStatus.DEGRADED : ServerStatus.HEALTHY;
  // A new server is judged on its first answer; a failing or flapping one must prove itself first.
  if (server.healthStatus === ServerStatus.UNKNOWN) return working;
  if (server.consecutiveSuccesses >= settings.healthyAfter) return working;
  return server.healthStatus === ServerStatus.HEALTHY ? working : server.healthStatus;
}
