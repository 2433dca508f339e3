import type { FilterQuery } from '@mikro-orm/core';
import type { EntityManager } from '../db/orm.js';
import type { Viewer } from '../graphql/access.js';
import { badUserInput } from '../graphql/errors.js';
import { type Connection, findPage, type PageRequest } from '../graphql/pagination.js';
import { createdBetween, NEWEST_FIRST, visibleLogs } from './log-filter.js';
import { RequestLog } from './request-log.entity.js';
import type { RequestLogFilter } from './request-log.inputs.js';

/** One page of the requests the viewer may see that match `filter`, newest first. */
export function listRequestLogs(
  em: EntityManager,
  viewer: Viewer,
  filter: RequestLogFilter | null | undefined,
  page: PageRequest,
): Promise<Connection<RequestLog>> {
  const where = { $and: [requestConditions(filter ?? {}), visibleLogs(viewer)] };
  return findPage(em, RequestLog, where, page, NEWEST_FIRST);
}

function requestConditions(filter: RequestLogFilter): FilterQuery<RequestLog> {
  const { minDurationMs, statusCode } = filter;
  if (minDurationMs != null && !(Number.isFinite(minDurationMs) && minDurationMs >= 0)) {
    throw badUserInput('"minDurationMs" must be a number of milliseconds, 0 or more.', 'minDurationMs');
  }
  if (statusCode != null && (statusCode < 100 || statusCode > 599)) {
    throw badUserInput('"statusCode" must be an HTTP status code, from 100 to 599.', 'statusCode');
  }
  return {
    ...(filter.operationName != null && { operationName: filter.operationName }),
    ...(minDurationMs != null && { durationMs: { $gte: minDurationMs } }),
    ...(statusCode != null && { statusCode }),
    ...createdBetween(filter.since, filter.until),
  };
}
