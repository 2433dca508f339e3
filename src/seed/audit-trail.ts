import type { JsonObject } from '../graphql/scalars.js';
import type { SeededAccounts, SeededKey, SeededTenant } from './accounts.js';
import type { PlannedServer } from './fleet.js';
import { type Random, Weighted } from './random.js';
import type { AuditLogRow } from './tables.js';
import { Timeline } from './timeline.js';

/**
 * The audit trail: first the rows for how the seeded data came to be (tenants, users, keys, servers, at the
 * times they were created), then day-to-day changes over the last 30 days (server updates, breaker resets,
 * key revocations, refused attempts) up to `count` rows in all.
 */

interface Change {
  readonly action: string;
  readonly resourceType: string;
  /** Refusals that the change can end with, as audit rows record them. */
  readonly errors: readonly string[];
}

const CHANGES = new Weighted<Change>([
  [{ action: 'server.update', resourceType: 'server', errors: ['BAD_USER_INPUT', 'CONFLICT'] }, 40],
  [{ action: 'circuit_breaker.reset', resourceType: 'server', errors: ['NOT_FOUND'] }, 10],
  [{ action: 'server.register', resourceType: 'server', errors: ['CONFLICT', 'BAD_USER_INPUT'] }, 12],
  [{ action: 'server.delete', resourceType: 'server', errors: ['NOT_FOUND', 'FORBIDDEN'] }, 4],
  [{ action: 'api_key.create', resourceType: 'api_key', errors: ['FORBIDDEN', 'BAD_USER_INPUT'] }, 6],
  [{ action: 'api_key.revoke', resourceType: 'api_key', errors: ['NOT_FOUND', 'FORBIDDEN'] }, 3],
  [{ action: 'api_key.unlock', resourceType: 'api_key', errors: ['NOT_FOUND'] }, 1],
  [{ action: 'user.create', resourceType: 'user', errors: ['CONFLICT', 'BAD_USER_INPUT'] }, 3],
  [{ action: 'tenant.update', resourceType: 'tenant', errors: ['NOT_FOUND', 'BAD_USER_INPUT'] }, 1],
]);

const NAMED_WHEN_REFUSED = new Set(['api_key.revoke', 'api_key.unlock']);
const UPDATED_FIELDS = ['description', 'tags', 'endpointUrl', 'headers', 'failureThreshold', 'name'];
const FAILURE_RATE = 0.05;
const DAYS = 30;

export function* auditLogRows(
  random: Random,
  accounts: SeededAccounts,
  servers: readonly PlannedServer[],
  count: number,
  now: number,
): Generator<AuditLogRow> {
  let written = 0;
  for (const row of creationRows(random, accounts, servers)) {
    if (written === count) return;
    written++;
    yield row;
  }
  if (written === count) return;
  const timeline = new Timeline(random, now, DAYS);
  for (const createdAt of timeline.timestamps(random, count - written)) {
    yield changeRow(random, accounts, servers, createdAt);
  }
}

function* creationRows(
  random: Random,
  accounts: SeededAccounts,
  servers: readonly PlannedServer[],
): Generator<AuditLogRow> {
  const admin = accounts.admin;
  for (const tenant of accounts.tenants) {
    yield row(random, {
      actor: { tenantId: null, key: admin },
      ipAddress: '10.0.0.10',
      action: 'tenant.create',
      resourceType: 'tenant',
      resourceId: tenant.id,
      details: { name: tenant.name },
      createdAt: tenant.createdAt,
    });
    for (const user of tenant.users) {
      yield row(random, {
        actor: { tenantId: null, key: admin },
        ipAddress: '10.0.0.10',
        action: 'user.create',
        resourceType: 'user',
        resourceId: user.id,
        details: { username: user.username, role: user.role.toUpperCase() },
        createdAt: user.createdAt,
      });
    }
    for (const key of tenant.keys) {
      yield row(random, {
        actor: { tenantId: null, key: admin },
        ipAddress: '10.0.0.10',
        action: 'api_key.create',
        resourceType: 'api_key',
        resourceId: key.id,
        details: {
          name: key.name,
          scopes: key.scopes.map((scope) => scope.toUpperCase()),
          tenantId: tenant.id,
        },
        createdAt: key.createdAt,
      });
    }
  }
  for (const server of servers) {
    yield row(random, {
      actor: { tenantId: server.tenant.id, key: mainKey(server.tenant) },
      ipAddress: random.pick(server.tenant.addresses),
      action: 'server.register',
      resourceType: 'server',
      resourceId: server.row.id,
      details: { name: server.row.name, transportType: server.row.transportType.toUpperCase() },
      createdAt: server.row.createdAt,
    });
  }
}

function changeRow(
  random: Random,
  accounts: SeededAccounts,
  servers: readonly PlannedServer[],
  createdAt: number,
): AuditLogRow {
  const change = CHANGES.pick(random);
  const server = servers.length > 0 ? random.pick(servers) : null;
  const tenant = server?.tenant ?? (accounts.tenants.length > 0 ? random.pick(accounts.tenants) : null);
  const failed = random.chance(FAILURE_RATE);
  const byAdmin = tenant === null || change.action === 'tenant.update' || random.chance(0.05);
  const actor = byAdmin
    ? { tenantId: null, key: accounts.admin }
    : { tenantId: tenant.id, key: mainKey(tenant) };
  let resourceId: string | null = null;
  let details: JsonObject = {};
  switch (change.resourceType) {
    case 'server':
      resourceId = change.action === 'server.register' || server === null ? random.uuid() : server.row.id;
      if (change.action === 'server.update') {
        details = { fields: random.sample(UPDATED_FIELDS, random.int(1, 2)) };
      } else if (change.action === 'server.register') {
        details = {
          name: `${server?.row.name ?? 'server'}-${random.int(2, 99)}`,
          transportType: 'STREAMABLE_HTTP',
        };
      }
      break;
    case 'api_key':
      resourceId =
        change.action === 'api_key.create' || tenant === null ? random.uuid() : random.pick(tenant.keys).id;
      if (change.action === 'api_key.create')
        details = { name: 'automation', scopes: ['READ'], tenantId: tenant?.id ?? null };
      break;
    case 'user':
      resourceId = random.uuid();
      details = { username: `${tenant?.slug ?? 'platform'}.user${random.int(1, 999)}`, role: 'USER' };
      break;
    default:
      resourceId = tenant?.id ?? null;
      details = { fields: ['settings'] };
  }
  return row(random, {
    actor,
    ipAddress: tenant === null || byAdmin ? '10.0.0.10' : random.pick(tenant.addresses),
    action: change.action,
    resourceType: change.resourceType,
    // As the API writes them: a refused change names its resource only for key revocations and unlocks.
    resourceId: failed && !NAMED_WHEN_REFUSED.has(change.action) ? null : resourceId,
    success: !failed,
    details: failed ? { ...details, error: random.pick(change.errors) } : details,
    createdAt,
  });
}

function mainKey(tenant: SeededTenant): SeededKey {
  return tenant.keys[0] as SeededKey;
}

interface AuditEvent {
  readonly actor: { readonly tenantId: string | null; readonly key: SeededKey };
  readonly ipAddress: string;
  readonly action: string;
  readonly resourceType: string;
  readonly resourceId: string | null;
  readonly success?: boolean;
  readonly details: JsonObject;
  readonly createdAt: number;
}

function row(random: Random, event: AuditEvent): AuditLogRow {
  return {
    id: random.uuid(),
    tenantId: event.actor.tenantId,
    userId: event.actor.key.userId,
    apiKeyId: event.actor.key.id,
    action: event.action,
    resourceType: event.resourceType,
    resourceId: event.resourceId,
    success: event.success ?? true,
    details: event.details,
    ipAddress: event.ipAddress,
    createdAt: event.createdAt,
  };
}
