import { ProtocolError, ProtocolErrorCode } from '@modelcontextprotocol/server';

/** Items per page of the endpoint's lists (tools, resources, templates, prompts). */
export const LIST_PAGE_SIZE = 500;

/**
 * One page of a list sorted by `keyOf`. The cursor is the last key of the previous page (base64url), so a
 * page stays right when items are added or removed between pages. A cursor that is not ours is refused.
 */
export function pageOf<T>(
  items: readonly T[],
  cursor: string | undefined,
  keyOf: (item: T) => string,
  pageSize = LIST_PAGE_SIZE,
): { items: T[]; nextCursor?: string } {
  let start = 0;
  if (cursor !== undefined) {
    const after = decodeCursor(cursor);
    start = items.findIndex((item) => keyOf(item) > after);
    if (start === -1) start = items.length;
  }
  const page = items.slice(start, start + pageSize);
  const last = page.at(-1);
  const more = start + pageSize < items.length && last !== undefined;
  return more ? { items: page, nextCursor: Buffer.from(keyOf(last)).toString('base64url') } : { items: page };
}

function decodeCursor(cursor: string): string {
  if (!/^[A-Za-z0-9_-]{1,1024}$/.test(cursor)) {
    throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Invalid cursor: ${cursor.slice(0, 64)}`);
  }
  return Buffer.from(cursor, 'base64url').toString();
}
