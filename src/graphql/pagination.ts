import { type EntityName, type FilterQuery, QueryOrder, type QueryOrderMap } from '@mikro-orm/core';
import type { ClassType } from 'type-graphql';
import { Field, Int, ObjectType, registerEnumType } from 'type-graphql';
import type { EntityManager } from '../db/orm.js';
import type { SqlCondition } from '../db/sql-condition.js';
import { badUserInput } from './errors.js';
import { isUuid } from './validate.js';

export const DEFAULT_PAGE_SIZE = 20;

export enum OrderDirection {
  ASC = 'ASC',
  DESC = 'DESC',
}
registerEnumType(OrderDirection, { name: 'OrderDirection' });
export const MAX_PAGE_SIZE = 100;

@ObjectType({ simpleResolvers: true })
export class PageInfo {
  @Field()
  hasNextPage!: boolean;

  @Field(() => String, { nullable: true })
  endCursor!: string | null;
}

export interface Edge<T> {
  cursor: string;
  node: T;
}

export interface Connection<T> {
  edges: Edge<T>[];
  pageInfo: PageInfo;
  totalCount: number;
}

/** Builds the Relay connection type `<Name>Connection` with its `<Name>Edge` for a node type. */
export function ConnectionType<T extends object>(
  name: string,
  nodeType: ClassType<T>,
): ClassType<Connection<T>> {
  @ObjectType(`${name}Edge`, { simpleResolvers: true })
  class EdgeType {
    @Field()
    cursor!: string;

    @Field(() => nodeType)
    node!: T;
  }

  @ObjectType(`${name}Connection`, { simpleResolvers: true })
  class ConnectionClass {
    @Field(() => [EdgeType])
    edges!: Edge<T>[];

    @Field(() => PageInfo)
    pageInfo!: PageInfo;

    @Field(() => Int)
    totalCount!: number;
  }
  return ConnectionClass;
}

/** A page request after validation: how many rows, and the position to continue after. */
export interface PageRequest {
  readonly first: number;
  readonly after: CursorPosition | null;
}

/**
 * A cursor is the sort key and id of the last row seen, so pages stay stable when rows are inserted or the
 * row itself is deleted (keyset pagination, never OFFSET).
 */
export interface CursorPosition {
  readonly sortValue: string | number | null;
  readonly id: string;
}

export function encodeCursor(position: CursorPosition): string {
  return Buffer.from(JSON.stringify([position.sortValue, position.id])).toString('base64url');
}

/** The error for a cursor that no page of this list could have handed out. */
export const invalidCursor = () =>
  badUserInput('The cursor is not valid: pass an endCursor or cursor from an earlier page.', 'after');

export function decodeCursor(cursor: string): CursorPosition {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      Array.isArray(value) &&
      value.length === 2 &&
      (value[0] === null || typeof value[0] === 'string' || typeof value[0] === 'number') &&
      typeof value[1] === 'string' &&
      isUuid(value[1])
    ) {
      return { sortValue: value[0], id: value[1] };
    }
  } catch {
    // fall through to the error below
  }
  throw invalidCursor();
}

const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/**
 * Whether a cursor's sort value can be compared with the field a list is ordered by (`runtimeType` from the
 * entity's metadata). A cursor of another list or ordering, or a forged one, otherwise reaches SQL as a
 * comparison PostgreSQL refuses.
 */
function fitsSortField(value: string | number, runtimeType: string | undefined): boolean {
  switch (runtimeType) {
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'Date':
      return typeof value === 'string' && ISO_TIMESTAMP.test(value) && !Number.isNaN(Date.parse(value));
    default:
      return typeof value === 'string';
  }
}

/** Validates `first` / `after` arguments: `first` defaults to 20 and may not exceed 100. */
export function pageRequest(first: number | null | undefined, after: string | null | undefined): PageRequest {
  const size = first ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(size) || size < 0 || size > MAX_PAGE_SIZE) {
    throw badUserInput(`"first" must be between 0 and ${MAX_PAGE_SIZE}.`, 'first');
  }
  return { first: size, after: after ? decodeCursor(after) : null };
}

/**
 * Turns `first + 1` rows fetched in cursor order into a connection: the extra row only tells whether
 * another page exists.
 */
export function toConnection<T>(
  rows: readonly T[],
  page: PageRequest,
  totalCount: number,
  positionOf: (row: T) => CursorPosition,
): Connection<T> {
  const nodes = rows.slice(0, page.first);
  const edges = nodes.map((node) => ({ node, cursor: encodeCursor(positionOf(node)) }));
  return {
    edges,
    totalCount,
    pageInfo: { hasNextPage: rows.length > page.first, endCursor: edges.at(-1)?.cursor ?? null },
  };
}

export type SortDirection = `${OrderDirection}`;

/**
 * The filter that continues a keyset page after `after`, for rows ordered by `(field, id)` in `direction`
 * with NULLs last (see `keysetOrder`). Timestamps must be stored at the precision a cursor carries
 * (milliseconds, see BaseEntity).
 */
export function keysetAfter(
  field: string,
  runtimeType: string | undefined,
  direction: SortDirection,
  after: CursorPosition | null,
): Record<string, unknown> {
  if (after === null) return {};
  checkCursor(after, runtimeType);
  const beyond = direction === 'ASC' ? '$gt' : '$lt';
  // Already in the trailing block of NULLs: only rows with NULL and a later id follow.
  if (after.sortValue === null) return { [field]: null, id: { [beyond]: after.id } };
  return {
    $or: [
      { [field]: { [beyond]: after.sortValue } },
      { [field]: after.sortValue, id: { [beyond]: after.id } },
      { [field]: null },
    ],
  };
}

/** The ORDER BY that matches `keysetAfter`: the field with NULLs last, then id in the same direction. */
export function keysetOrder(field: string, direction: SortDirection): Record<string, QueryOrder> {
  return {
    [field]: direction === 'ASC' ? QueryOrder.ASC_NULLS_LAST : QueryOrder.DESC_NULLS_LAST,
    id: direction === 'ASC' ? QueryOrder.ASC : QueryOrder.DESC,
  };
}

/** The columns a keyset page of a raw statement is ordered by, as SQL references (`"s"."name"`, `"s"."id"`). */
export interface KeysetColumns {
  readonly sort: string;
  readonly id: string;
}

/** `keysetAfter` as a condition of a raw statement over `columns`; `null` on the first page. */
export function keysetAfterSql(
  columns: KeysetColumns,
  runtimeType: string | undefined,
  direction: SortDirection,
  after: CursorPosition | null,
): SqlCondition | null {
  if (after === null) return null;
  checkCursor(after, runtimeType);
  const { sort, id } = columns;
  const beyond = direction === 'ASC' ? '>' : '<';
  if (after.sortValue === null) return { sql: `${sort} is null and ${id} ${beyond} ?`, values: [after.id] };
  return {
    sql: `${sort} ${beyond} ? or (${sort} = ? and ${id} ${beyond} ?) or ${sort} is null`,
    values: [after.sortValue, after.sortValue, after.id],
  };
}

/** `keysetOrder` as the ORDER BY list of a raw statement over `columns`. */
export function keysetOrderSql(columns: KeysetColumns, direction: SortDirection): string {
  const order = direction === 'ASC' ? 'asc' : 'desc';
  return `${columns.sort} ${order} nulls last, ${columns.id} ${order}`;
}

/** Refuses a cursor whose sort value does not fit the sort field. */
function checkCursor(after: CursorPosition, runtimeType: string | undefined): void {
  if (after.sortValue !== null && !fitsSortField(after.sortValue, runtimeType)) throw invalidCursor();
}

/** A cursor's sort value from a row's field: dates travel as ISO strings. */
export function cursorValue(value: string | number | Date | null): string | number | null {
  return value instanceof Date ? value.toISOString() : value;
}

/**
 * One page of `entity` rows matching `where`, ordered by `(field, id)`, and how many match in all: the
 * whole of a simple list query.
 */
export async function findPage<T extends { id: string }>(
  em: EntityManager,
  entity: EntityName<T>,
  where: FilterQuery<T>,
  page: PageRequest,
  order: { field: keyof T & string; direction: SortDirection },
): Promise<Connection<T>> {
  const { field, direction } = order;
  const properties: Record<string, { runtimeType?: string } | undefined> =
    em.getMetadata().find(entity)?.properties ?? {};
  const runtimeType = properties[field]?.runtimeType;
  const after = keysetAfter(field, runtimeType, direction, page.after);
  const [rows, totalCount] = await Promise.all([
    em.find(entity, { $and: [where, after] } as FilterQuery<T>, {
      orderBy: keysetOrder(field, direction) as QueryOrderMap<T>,
      limit: page.first + 1,
    }),
    em.count(entity, where),
  ]);
  return toConnection(rows, page, totalCount, (row) => ({
    sortValue: cursorValue(row[field] as string | number | Date | null),
    id: row.id,
  }));
}
