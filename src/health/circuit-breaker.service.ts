import { LockMode } from '@mikro-orm/core';
import { type AuditActor, audited } from '../audit/audit-trail.js';
import type { EntityManager } from '../db/orm.js';
import { notFound } from '../graphql/errors.js';
import { isUuid } from '../graphql/validate.js';
import type { EventPublisher } from '../pubsub/pubsub.js';
import { CircuitBreaker } from '../registry/circuit-breaker.entity.js';
import { reset } from './circuit-breaker-machine.js';
import { type CircuitBreakerEvent, HEALTH_TOPICS } from './health.events.js';

/**
 * Closes a server's circuit by hand (an operator knows the server is back), audited and published: one
 * transaction of one locking read (server and breaker), the two updates and the audit row.
 */
export async function resetCircuitBreaker(
  em: EntityManager,
  actor: AuditActor,
  serverId: string,
  pubSub: EventPublisher,
): Promise<CircuitBreaker> {
  let event: CircuitBreakerEvent | null = null;
  const entry = { action: 'circuit_breaker.reset', resourceType: 'server' };
  const breaker = await audited(em, actor, entry, async (tx) => {
    const found = await lockVisibleBreaker(tx, serverId);
    const server = found.server.getEntity();
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

/**
 * The breaker of a server inside the request's tenant scope, with its server, in one statement that locks the
 * two rows and nothing else. `OF server, breaker` takes them in that order, as every other writer of both does
 * (without it PostgreSQL locks in FROM order, breaker first), and never a joined tenant's row: `em.findOne`
 * joins it for the tenant filter, and locking it made every change in the tenant wait for the one before.
 * NOT_FOUND otherwise, as for a server that does not exist (as `findVisibleServer`). An entity this request
 * already holds takes the locked row's values (MikroORM merges every column it has not changed itself but one
 * gone null since; the reset reads no nullable column).
 */
async function lockVisibleBreaker(tx: EntityManager, serverId: string): Promise<CircuitBreaker> {
  if (!isUuid(serverId)) throw notFound('Server', serverId);
  const query = tx
    .createQueryBuilder(CircuitBreaker, 'breaker')
    .select('*')
    .joinAndSelect('breaker.server', 'server')
    .where({ server: serverId })
    .setLockMode(LockMode.PESSIMISTIC_WRITE, ['server', 'breaker']);
  await query.applyFilters();
  const breaker = await query.getSingleResult();
  if (!breaker) throw notFound('Server', serverId);
  return breaker;
}
