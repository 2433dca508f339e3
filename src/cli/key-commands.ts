import { ApiKey } from '../auth/api-key.entity.js';
import { API_KEY_TOPICS } from '../auth/api-key.events.js';
import { revokeApiKey, unlockApiKey } from '../auth/api-key.service.js';
import type { AppConfig } from '../config.js';
import type { EntityManager } from '../db/orm.js';
import type { Logger } from '../logger.js';
import { createEventBus } from '../pubsub/pubsub.js';
import { CONSOLE_ACTOR, CONSOLE_VIEWER } from './console-operator.js';
import { printRecord, printRows } from './output.js';

/** A key as `key list` shows it: never its secret or hash. */
function keyRow(key: ApiKey, now: Date) {
  const state = !key.isActive
    ? 'REVOKED'
    : key.isLocked
      ? 'LOCKED'
      : key.expiresAt !== null && key.expiresAt <= now
        ? 'EXPIRED'
        : 'ACTIVE';
  return {
    id: key.id,
    prefix: key.prefix,
    state,
    tenantId: key.tenant?.id ?? null,
    scopes: key.scopes.map((scope) => scope.toUpperCase()),
    name: key.name,
    expiresAt: key.expiresAt,
    lastUsedAt: key.lastUsedAt,
  };
}

/** `key list [--tenant <id>]`: every key (of one tenant), newest first. */
export async function listKeys(
  em: EntityManager,
  tenantId: string | undefined,
  json: boolean,
): Promise<void> {
  const keys = await em.find(ApiKey, tenantId === undefined ? {} : { tenant: tenantId }, {
    orderBy: { createdAt: 'DESC', id: 'ASC' },
  });
  const now = new Date();
  printRows(
    keys.map((key) => keyRow(key, now)),
    ['id', 'prefix', 'state', 'tenantId', 'scopes', 'name'],
    json,
  );
}

/**
 * `key revoke <id>` and `key unlock <id>`, audited like the mutations. With Redis configured the change is
 * also published, so running servers close the key's websockets at once (HTTP requests are refused from the
 * next one anyway: every request reads its key).
 */
export async function changeKey(
  em: EntityManager,
  config: AppConfig,
  log: Logger,
  change: 'revoke' | 'unlock',
  id: string,
  json: boolean,
): Promise<void> {
  const key = await (change === 'revoke' ? revokeApiKey : unlockApiKey)(
    em,
    CONSOLE_ACTOR,
    CONSOLE_VIEWER,
    id,
  );
  if (config.redisUrl !== undefined) {
    const bus = createEventBus(config.redisUrl, log);
    try {
      bus.pubSub.publish(API_KEY_TOPICS.apiKeyChanged, { apiKeyId: key.id });
    } finally {
      await bus.close();
    }
  }
  printRecord(keyRow(key, new Date()), json);
}
