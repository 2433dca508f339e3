import { LockMode } from '@mikro-orm/core';
import type { PubSub } from 'type-graphql';
import type { HealthSettings } from '../config.js';
import type { EntityManager } from '../db/orm.js';
import { CircuitBreaker } from '../registry/circuit-breaker.entity.js';
import { MCPServer } from '../registry/mcp-server.entity.js';
import { recordResult } from './circuit-breaker-machine.js';
import { type CircuitBreakerEvent, HEALTH_TOPICS, type ServerHealthEvent } from './health.events.js';
import { HealthCheck, ProbeOutcome } from './health-check.entity.js';
import { applyProbe, type ProbeResult } from './health-status.js';

export interface HealthEvents {
  readonly health: ServerHealthEvent[];
  readonly circuit: CircuitBreakerEvent[];
}

/**
 * Applies one probe result to the server, its circuit breaker and its history in one transaction, with both
 * rows locked so concurrent results for the same server apply one after the other. Returns the changes to
 * publish once the transaction has committed.
 */
export async function recordProbe(
  em: EntityManager,
  settings: HealthSettings,
  serverId: string,
  result: ProbeResult,
): Promise<HealthEvents> {
  const events: HealthEvents = { health: [], circuit: [] };
  await em.transactional(async (tx) => {
    const server = await tx.findOne(MCPServer, serverId, {
      lockMode: LockMode.PESSIMISTIC_WRITE,
      refresh: true,
    });
    if (!server) return; // deleted while it was being probed
    const breaker = await tx.findOne(
      CircuitBreaker,
      { server: serverId },
      { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true },
    );
    const now = new Date();
    const previousStatus = server.healthStatus;
    const previousState = breaker?.state ?? null;

    applyProbe(server, result, settings);
    server.lastHealthCheckAt = now;
    if (result.protocolVersion !== null) server.protocolVersion = result.protocolVersion;
    if (breaker) recordResult(breaker, result.outcome === ProbeOutcome.OK, now);

    const check = new HealthCheck(
      tx.getReference(MCPServer, serverId, { wrapped: true }),
      server.healthStatus,
      result.outcome,
    );
    Object.assign(check, {
      checkedAt: now,
      responseTimeMs: result.latencyMs,
      protocolVersion: result.protocolVersion,
      error: result.error,
    });
    tx.persist(check);

    const tenantId = server.tenant.id;
    if (server.healthStatus !== previousStatus) {
      server.eventVersion += 1;
      events.health.push({
        serverId,
        tenantId,
        previousStatus,
        status: server.healthStatus,
        responseTimeMs: result.latencyMs,
        error: result.error,
        checkedAt: now,
        version: server.eventVersion,
      });
    }
    if (breaker && breaker.state !== previousState) {
      server.eventVersion += 1;
      events.circuit.push({
        serverId,
        tenantId,
        previousState,
        state: breaker.state,
        failureCount: breaker.failureCount,
        changedAt: now,
        version: server.eventVersion,
      });
    }
  });
  return events;
}

export function publishHealthEvents(pubSub: PubSub, events: HealthEvents): void {
  for (const event of events.health) pubSub.publish(HEALTH_TOPICS.serverHealthChanged, event);
  for (const event of events.circuit) pubSub.publish(HEALTH_TOPICS.circuitBreakerChanged, event);
}
