import { LockMode } from '@mikro-orm/core';
import { type AuditActor, audited } from '../audit/audit-trail.js';
import type { EntityManager } from '../db/orm.js';
import { notFound } from '../graphql/errors.js';
import type { EventPublisher } from '../pubsub/pubsub.js';
import { CircuitBreaker } from '../registry/circuit-breaker.entity.js';
import { MCPServer } from '../registry/mcp-server.entity.js';
import { findVisibleServer } from '../registry/server.service.js';
import { reset } from './circuit-breaker-machine.js';
import { type CircuitBreakerEvent, HEALTH_TOPICS } from './health.events.js';

/** Closes a server's circuit by hand (an operator knows the server is back), audited and published. */
export async function resetCircuitBreaker(
  em: EntityManager,
  actor: AuditActor,
  serverId: string,
  pubSub: EventPublisher,
): Promise<CircuitBreaker> {
  let event: CircuitBreakerEvent | null = null;
  const entry = { action: 'circuit_breaker.reset', resourceType: 'server' };
  const breaker = await audited(em, actor, entry, async (tx) => {
    const visible = await findVisibleServer(tx, serverId);
    const server = await tx.findOneOrFail(MCPServer, visible.id, {
      lockMode: LockMode.PESSIMISTIC_WRITE,
      refresh: true,
    });
    const found = await tx.findOne(
      CircuitBreaker,
      { server: server.id },
      { lockMode: LockMode.PESSIMISTIC_WRITE },
    );
    if (!found) throw notFound('Circuit breaker of server', serverId);
    const previousState = found.state;
    reset(found);
    server.eventVersion += 1;
    event = {
      serverId: server.id,
      tenantId: server.tenant.id,
      previousState,
      state: found.state,
      failureCount: found.failureCount,
      changedAt: new Date(),
      version: server.eventVersion,
    };
    return { result: found, resourceId: server.id };
  });
  if (event) pubSub.publish(HEALTH_TOPICS.circuitBreakerChanged, event);
  return breaker;
}
