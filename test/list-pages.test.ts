import { describe, expect, it } from 'vitest';
import { pageOf } from '../src/gateway/list-pages.js';

const names = (count: number) =>
  Array.from({ length: count }, (_, index) => `tool_${String(index).padStart(3, '0')}`);
const walk = (items: string[], pageSize: number) => {
  const pages: string[][] = [];
  let cursor: string | undefined;
  do {
    const page = pageOf(items, cursor, (item) => item, pageSize);
    pages.push(page.items);
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return pages;
};

describe('the MCP endpoint’s list pages', () => {
  it('walks a list in pages with cursors, the last page without one', () => {
    const pages = walk(names(7), 3);
    expect(pages.map((page) => page.length)).toEqual([3, 3, 1]);
    expect(pages.flat()).toEqual(names(7));
    expect(pageOf(names(3), undefined, (item) => item, 3).nextCursor).toBeUndefined();
  });

  it('continues after the last item seen, whatever was added or removed before it', () => {
    const first = pageOf(names(6), undefined, (item) => item, 3);
    const changed = names(6).filter((name) => name !== 'tool_001');
    const next = pageOf(changed, first.nextCursor, (item) => item, 3);
    expect(next.items).toEqual(['tool_003', 'tool_004', 'tool_005']);
  });

  it('refuses a cursor it did not make', () => {
    expect(() => pageOf(names(3), 'not a cursor!', (item) => item)).toThrow(/Invalid cursor/);
  });
});
