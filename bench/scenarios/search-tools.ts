import { matchesAnyWordSql, searchWords } from '../../src/registry/text-search.js';
import { dataOf, expect, type GraphQLReply, requestBody } from '../graphql-http.js';
import { SEARCH_TOOLS } from '../operations.js';
import type { HttpScenario, ScenarioContext } from './scenario.js';

const FIRST = 20;

/** What people type, typos included, each with the tools of which one must be among the first three. */
const QUERIES: readonly [query: string, expected: readonly string[]][] = [
  ['wether forcast', ['get_forecast', 'get_weather']],
  ['read file', ['read_file']],
  ['create pull request', ['create_pull_request']],
  ['send a message', ['send_message']],
  ['screnshot', ['screenshot']],
  ['list files', ['list_directory', 'search_files']],
  ['search', ['search']],
  ['sql query', ['query', 'explain_query']],
  ['acknowledge alerts', ['acknowledge_alert']],
  ['get weather', ['get_weather']],
];

interface SearchData {
  searchTools: {
    totalCount: number;
    edges: { node: { score: number; tool: { id: string; name: string }; server: { id: string } } }[];
  };
}

/**
 * Tool search over every seeded tool (platform admin key: all tenants), the queries above in turn. The
 * common words ("search", "list files", "get weather") match thousands of tools: the dear end.
 */
export function searchToolsScenario({ sql, keys }: ScenarioContext): HttpScenario {
  const bodies = QUERIES.map(([query]) => requestBody(SEARCH_TOOLS, { query, first: FIRST }));
  let next = 0;
  const title = 'SearchTools';
  return {
    name: 'search',
    title,
    description:
      `${QUERIES.length} queries in turn (${QUERIES.map(([query]) => `"${query}"`).join(', ')}), first: ` +
      `${FIRST}; platform admin key (every tool)`,
    key: keys.admin.key,
    varies: true,
    explain: true,
    nextBody() {
      const body = bodies[next % bodies.length] ?? '';
      next += 1;
      return body;
    },
    async verify(reply: GraphQLReply<unknown>, body: string) {
      const { query } = (JSON.parse(body) as { variables: { query: string } }).variables;
      const expected = QUERIES.find(([candidate]) => candidate === query)?.[1] ?? [];
      const { searchTools } = dataOf(reply as GraphQLReply<SearchData>, title);
      const [match, params] = matchesAnyWordSql('t', searchWords(query));
      const [total] = await sql.rows<{ count: number }>(
        `select count(*)::int as count from server_tools t where ${match.replace('?', '$1')}`,
        [...params],
      );
      expect(
        searchTools.totalCount === total?.count,
        title,
        `"${query}": totalCount ${searchTools.totalCount}, SQL ${total?.count}`,
      );
      const scores = searchTools.edges.map((edge) => edge.node.score);
      expect(
        scores.every((score, index) => index === 0 || score <= (scores[index - 1] ?? score)),
        title,
        `"${query}": not best first`,
      );
      const top = searchTools.edges.slice(0, 3).map((edge) => edge.node.tool.name);
      expect(
        top.some((name) => expected.includes(name)),
        title,
        `"${query}": top 3 ${top.join(', ')}`,
      );
      return (
        `"${query}": ${searchTools.edges.length} of ${searchTools.totalCount} matching tools as counted in SQL, ` +
        `best first, top 3 ${top.join(', ')}`
      );
    },
  };
}
