import DataLoader from 'dataloader';
import type { EntityManager } from '../db/orm.js';
import { HealthCheck } from './health-check.entity.js';

export interface HealthLoaders {
  /** The latest `last` probes of each server, newest first: one statement per batch and `last`. */
  recentHealthChecks(last: number): DataLoader<string, HealthCheck[]>;
}

declare module '../graphql/context.js' {
  interface RequestLoaders extends HealthLoaders {}
}

export function createHealthLoaders(em: EntityManager): HealthLoaders {
  const byLimit = new Map<number, DataLoader<string, HealthCheck[]>>();
  return {
    recentHealthChecks(last) {
      let loader = byLimit.get(last);
      if (!loader) {
        loader = new DataLoader((serverIds) => loadRecent(em, serverIds, last));
        byLimit.set(last, loader);
      }
      return loader;
    },
  };
}

async function loadRecent(
  em: EntityManager,
  serverIds: readonly string[],
  last: number,
): Promise<HealthCheck[][]> {
  // The index on (server_id, checked_at) serves each partition; only `last` rows per server come back.
  const rows: Record<string, unknown>[] = await em.execute(
    `select ranked.* from (
       select h.*, row_number() over (partition by h.server_id order by h.checked_at desc, h.id desc) as position
       from health_checks h where h.server_id in (?)
     ) ranked where ranked.position <= ? order by ranked.server_id, ranked.position`,
    [[...serverIds], last],
  );
  const groups = new Map<string, HealthCheck[]>(serverIds.map((id) => [id, []]));
  for (const row of rows) {
    const { position: _position, ...columns } = row;
    groups.get(String(row.server_id))?.push(em.map(HealthCheck, columns));
  }
  return serverIds.map((id) => groups.get(id) ?? []);
}
