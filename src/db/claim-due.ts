import type { EntityManager } from './orm.js';

/** Rows of `table` that are due, and how claiming one moves it out of reach (`?`: parameters in order). */
export interface DueRows {
  readonly table: string;
  /** Which rows are due, over the table's own columns. */
  readonly where: string;
  readonly orderBy: string;
  /** The update that claims a row (e.g. moves its next run one interval ahead), over the alias `claimed`. */
  readonly set: string;
  /** What the claim returns of each row, over the alias `claimed`. */
  readonly returning: string;
}

/**
 * Claims up to `limit` due rows for this instance alone, in one statement: rows are locked with `FOR UPDATE SKIP
 * LOCKED` (rows another instance is claiming are passed over, never waited for) and updated by `set` before the
 * lock is released, so a fleet runs each due row once. Background work of every kind claims this way.
 */
export function claimDue<Row>(
  em: EntityManager,
  due: DueRows,
  params: { readonly where?: readonly unknown[]; readonly limit: number; readonly set?: readonly unknown[] },
): Promise<Row[]> {
  return em.execute<Row[]>(
    `with due as (
       select id from ${due.table}
       where ${due.where}
       order by ${due.orderBy}
       limit ?
       for update skip locked
     )
     update ${due.table} claimed set ${due.set}
     from due where claimed.id = due.id
     returning ${due.returning}`,
    [...(params.where ?? []), params.limit, ...(params.set ?? [])],
  );
}
