import { raw } from '@mikro-orm/core';
import { referencedRowSql, rowFormat } from '../db/json-rows.js';
import type { EntityManager } from '../db/orm.js';
import { type Connection, invalidCursor, type PageRequest, toConnection } from '../graphql/pagination.js';
import { MCPServer } from '../registry/mcp-server.entity.js';
import type { ServerRow, ServerToolRow } from '../registry/registry.loaders.js';
import { ServerTool } from '../registry/server-tool.entity.js';
import { matchesAnyWordSql, requireSearchWords, wordsRankSql } from '../registry/text-search.js';
import type { ToolSearchHit } from './tool-search-hit.type.js';

/** One statement's result row: the tool and its server as their values in JSON (json-rows), and the score. */
interface HitRow {
  [TOOL]: unknown[];
  [SERVER]: unknown[];
  [SCORE]: number;
  [TOTAL]: number | string;
}

const TOOL = '$tool';
const SERVER = '$server';
const SCORE = '$score';
const TOTAL = '$total';

/**
 * One page of the tools the viewer may see that match `text` (src/registry/text-search.ts), best first; equal
 * scores by tool id, so a cursor (score, id) continues exactly where the page ended. One statement reads the
 * page with each hit's server and, when `countAll`, how many match in all.
 *
 * Tenant scoping: the query builder over ServerTool takes the request's filters (a tool is visible when its
 * server is); each hit's server is the tool's own, so it is visible too.
 */
export async function searchTools(
  em: EntityManager,
  text: string,
  page: PageRequest,
  wanted: { readonly countAll: boolean },
): Promise<Connection<ToolSearchHit>> {
  const words = requireSearchWords(text, 'query');
  const after = page.after;
  if (after !== null && (typeof after.sortValue !== 'number' || !Number.isFinite(after.sortValue))) {
    throw invalidCursor();
  }
  const [matchSql, matchParams] = matchesAnyWordSql('t', words);
  const [rankSql, rankParams] = wordsRankSql('t', words);
  const matching = em.createQueryBuilder(ServerTool, 't').where(matchSql, [...matchParams]);
  await matching.applyFilters();

  // Only ids and the score travel through the ranking (thousands of rows for a common word): the page's
  // tools and servers are read by id once it is cut, so their JSON is built for the page's rows only.
  // How many match is counted in the same pass (every match is ranked anyway): a second statement would read
  // every matching row again.
  const scored = matching
    .clone()
    .select([
      raw('t.id'),
      raw('t.server_id'),
      raw(`${rankSql} as score`, [...rankParams]),
      raw(wanted.countAll ? 'count(*) over () as total' : '0 as total'),
    ]);
  const pageOfHits = em
    .createQueryBuilder(ServerTool)
    .from(scored, 'scored')
    .select(raw('scored.*'))
    .where(
      after === null ? '1 = 1' : '(scored.score < ? or (scored.score = ? and scored.id > ?))',
      after === null ? [] : [after.sortValue, after.sortValue, after.id],
    )
    .orderBy({ [raw('scored.score')]: 'desc', [raw('scored.id')]: 'asc' })
    .limit(page.first + 1);

  const toolFormat = rowFormat<ServerToolRow>(em, ServerTool);
  const serverFormat = rowFormat<ServerRow>(em, MCPServer);
  const { id: idProperty, server: serverProperty } = em.getMetadata().get(ServerTool).properties;
  const alias = 'hit';
  const rows = await em
    .createQueryBuilder(ServerTool)
    .from(pageOfHits, alias)
    .select([
      raw(`${referencedRowSql(toolFormat, alias, idProperty)} as "${TOOL}"`),
      raw(`${referencedRowSql(serverFormat, alias, serverProperty)} as "${SERVER}"`),
      raw(`${alias}.score as "${SCORE}"`),
      raw(`${alias}.total as "${TOTAL}"`),
    ])
    .orderBy({ [raw(`${alias}.score`)]: 'desc', [raw(`${alias}.id`)]: 'asc' })
    .execute<HitRow[]>('all', false);
  // A page past the last hit carries no count: only then is it a statement of its own.
  const totalCount = !wanted.countAll
    ? 0
    : rows.length > 0
      ? Number(rows[0]?.[TOTAL])
      : after === null
        ? 0
        : await matching.clone().getCount();

  const hits = rows.map(
    ({ [TOOL]: tool, [SERVER]: server, [SCORE]: score }): ToolSearchHit => ({
      score: Number(score),
      tool: toolFormat.readValues(tool),
      server: serverFormat.readValues(server),
    }),
  );
  return toConnection(hits, page, totalCount, (hit) => ({ sortValue: hit.score, id: hit.tool.id }));
}
