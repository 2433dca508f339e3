import { LockMode } from '@mikro-orm/core';
import type { HealthSettings } from '../config.js';
import type { EntityManager } from '../db/orm.js';
import type { EventPublisher } from '../pubsub/pubsub.js';
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
    const locked = await lockServerAndBreaker(tx, serverId);
    if (!locked) return; // deleted while it was being probed
    const { server, breaker } = locked;
    const now = new Date();
    const previousStatus = server.healthStatus;

    applyProbe(server, result, settings);
    server.lastHealthCheckAt = now;
    if (result.protocolVersion !== null) server.protocolVersion = result.protocolVersion;

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
    recordBreakerResult(server, breaker, result.outcome === ProbeOutcome.OK, now, events);
  });
  return events;
}

/**
 * Applies the outcome of one tool call made through the gateway. A call the server did not answer (refused,
 * timed out, broken protocol) counts exactly like a failed probe: `recordProbe`, so status, breaker and
 * history move as they would for the health checker. An answered call (an `isError` result included: that is
 * the tool's answer) is a success for the circuit breaker only; its latency includes the tool's own work, so
 * it does not feed the server's response time. Returns the changes to publish once committed.
 */
export async function recordCallOutcome(
  em: EntityManager,
  settings: HealthSettings,
  serverId: string,
  outcome: { readonly failure: ProbeResult | null },
): Promise<HealthEvents> {
  if (outcome.failure !== null) return recordProbe(em, settings, serverId, outcome.failure);
  const events: HealthEvents = { health: [], circuit: [] };
  await em.transactional(async (tx) => {
    const locked = await lockServerAndBreaker(tx, serverId);
    if (locked) recordBreakerResult(locked.server, locked.breaker, true, new Date(), events);
  });
  return events;
}

/** The server and its breaker, both locked so that concurrent results apply one after the other. */
async function lockServerAndBreaker(
  tx: EntityManager,
  serverId: string,
): Promise<{ server: MCPServer; breaker: CircuitBreaker | null } | null> {
  const server = await tx.findOne(MCPServer, serverId, {
    lockMode: LockMode.PESSIMISTIC_WRITE,
    refresh: true,
  });
  if (!server) return null;
  const breaker = await tx.findOne(
    CircuitBreaker,
    { server: serverId },
    { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true },
  );
  return { server, breaker };
}

/** Moves the breaker by one result; a change of state becomes a circuitBreakerChanged event. */
function recordBreakerResult(
  server: MCPServer,
  breaker: CircuitBreaker | null,
  success: boolean,
  now: Date,
  events: HealthEvents,
): void {
  if (!breaker) return;
  const previousState = breaker.state;
  recordResult(breaker, success, now);
  if (breaker.state === previousState) return;
  server.eventVersion += 1;
  events.circuit.push({
    serverId: server.id,
    tenantId: server.tenant.id,
    previousState,
    state: breaker.state,
    failureCount: breaker.failureCount,
    changedAt: now,
    version: server.eventVersion,
  });
}

export function publishHealthEvents(pubSub: EventPublisher, events: HealthEvents): void {
  for (const event of events.health) pubSub.publish(HEALTH_TOPICS.serverHealthChanged, event);
  for (const event of events.circuit) pubSub.publish(HEALTH_TOPICS.circuitBreakerChanged, event);
}
