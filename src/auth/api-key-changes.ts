import { ChangeSetType } from '@mikro-orm/core';
import { watchCommittedChanges } from '../db/committed-changes.js';
import type { Orm } from '../db/orm.js';
import type { EventPublisher } from '../pubsub/pubsub.js';
import { ApiKey } from './api-key.entity.js';
import { API_KEY_TOPICS } from './api-key.events.js';

/**
 * Every committed change of a key made through the ORM (revoked, unlocked, any field) is announced once
 * committed: instances drop it from their key caches and check the websockets it holds open again.
 */
export function publishApiKeyChanges(orm: Orm, bus: EventPublisher): void {
  watchCommittedChanges<string[]>(orm, {
    changeOf: (changeSets) => {
      const ids = changeSets
        .filter(({ entity, type }) => entity instanceof ApiKey && type !== ChangeSetType.CREATE)
        .map(({ entity }) => (entity as ApiKey).id);
      return ids.length === 0 ? null : ids;
    },
    merge: (a, b) => [...new Set([...a, ...b])],
    committed: (ids) => {
      for (const apiKeyId of ids) bus.publish(API_KEY_TOPICS.apiKeyChanged, { apiKeyId });
    },
  });
}
