import { dataOf, expect, type GraphQLReply, requestBody } from '../graphql-http.js';
import { DISCOVER_SERVERS } from '../operations.js';
import type { HttpScenario, ScenarioContext } from './scenario.js';

const FIRST = 20;
const USABLE = ['healthy', 'degraded'];

interface DiscoverData {
  servers: {
    totalCount: number;
    edges: { node: { id: string; healthStatus: string; avgResponseTime: number | null } }[];
  };
}

/**
 * Servers offering two given tools, usable, fastest first. The two tools are the pair that most usable
 * servers offer together, so the answer is a real page rather than an empty one.
 */
export async function discoverServersScenario({ sql, keys }: ScenarioContext): Promise<HttpScenario> {
  const pair = await sql.rows<{ first: string; second: string; servers: number }>(
    `select a.name as first, b.name as second, count(*)::int as servers
     from server_tools a
     join server_tools b on b.server_id = a.server_id and a.name < b.name
     join mcp_servers s on s.id = a.server_id
     where s.health_status = any($1)
     group by a.name, b.name
     order by servers desc, a.name, b.name
     limit 1`,
    [USABLE],
  );
  const tools = pair[0] ? [pair[0].first, pair[0].second] : ['search', 'fetch'];
  const body = requestBody(DISCOVER_SERVERS, { tools, first: FIRST });
  const title = 'DiscoverServers';
  return {
    name: 'discover',
    title,
    description:
      `tools: [${tools.map((tool) => `"${tool}"`).join(', ')}] (both required), HEALTHY or DEGRADED, fastest ` +
      `first, first: ${FIRST}; platform admin key`,
    key: keys.admin.key,
    varies: false,
    explain: true,
    nextBody: () => body,
    async verify(reply: GraphQLReply<unknown>) {
      const { servers } = dataOf(reply as GraphQLReply<DiscoverData>, title);
      const matching = `from mcp_servers s
        where s.health_status = any($1)
          and (select count(distinct t.name) from server_tools t where t.server_id = s.id and t.name = any($2)) = 2`;
      const [total] = await sql.rows<{ count: number }>(`select count(*)::int as count ${matching}`, [
        USABLE,
        tools,
      ]);
      const expected = await sql.rows<{ id: string }>(
        `select s.id ${matching} order by s.avg_response_time asc nulls last, s.id limit $3`,
        [USABLE, tools, FIRST],
      );
      expect(
        servers.totalCount === total?.count,
        title,
        `totalCount ${servers.totalCount}, SQL ${total?.count}`,
      );
      expect(servers.totalCount > 0, title, `no server offers both ${tools.join(' and ')}`);
      const ids = servers.edges.map((edge) => edge.node.id);
      expect(
        ids.join() === expected.map((row) => row.id).join(),
        title,
        'the page is not the fastest usable servers offering both tools',
      );
      return (
        `${ids.length} of ${servers.totalCount} servers, each HEALTHY or DEGRADED with both tools, ` +
        'fastest first, as in SQL'
      );
    },
  };
}
