import { dataOf, expect, type GraphQLReply, requestBody } from '../graphql-http.js';
import { SERVER_LIST, SERVER_LIST_WITH_TOOL_SCHEMAS } from '../operations.js';
import { graphqlEnum, type HttpScenario, type ScenarioContext } from './scenario.js';

const PAGE = 100;

interface ServerListData {
  servers: {
    totalCount: number;
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
    edges: {
      cursor: string;
      node: {
        id: string;
        tenant: { id: string } | null;
        circuitBreaker: { state: string } | null;
        tools: { name: string; toolSchema?: unknown }[];
        resources: { uriTemplate: string }[];
      };
    }[];
  };
}

interface ExpectedServer {
  id: string;
  tenant_id: string;
  state: string | null;
  tools: number;
  schemas: number;
  resources: number;
}

/**
 * The first page of 100 servers (platform admin: all tenants), by name, with everything a dashboard shows: the
 * contract's ServerList, or with `toolSchemas` ServerListWithToolSchemas (each tool's input schema too).
 */
export function serverListScenario(
  { sql, keys }: ScenarioContext,
  { toolSchemas }: { readonly toolSchemas: boolean },
): HttpScenario {
  const body = requestBody(toolSchemas ? SERVER_LIST_WITH_TOOL_SCHEMAS : SERVER_LIST, { first: PAGE });
  const title = toolSchemas ? 'ServerListWithToolSchemas' : 'ServerList';
  return {
    name: toolSchemas ? 'server-list-schemas' : 'server-list',
    title,
    description:
      `first: ${PAGE}, by name, with tools (${toolSchemas ? 'incl.' : 'without'} input schemas), resources, ` +
      'tenant and circuit breaker; platform admin key (all tenants)',
    key: keys.admin.key,
    varies: false,
    explain: false,
    nextBody: () => body,
    async verify(reply: GraphQLReply<unknown>) {
      const { servers } = dataOf(reply as GraphQLReply<ServerListData>, title);
      const [total] = await sql.rows<{ count: number }>('select count(*)::int as count from mcp_servers');
      const expected = await sql.rows<ExpectedServer>(
        `select s.id, s.tenant_id, cb.state,
           (select count(*) from server_tools t where t.server_id = s.id)::int as tools,
           (select count(*) from server_tools t where t.server_id = s.id and t.tool_schema is not null)::int
             as schemas,
           (select count(*) from server_resources r where r.server_id = s.id)::int as resources
         from mcp_servers s left join circuit_breakers cb on cb.server_id = s.id
         order by s.name, s.id
         limit $1`,
        [PAGE],
      );
      expect(
        servers.totalCount === total?.count,
        title,
        `totalCount ${servers.totalCount}, SQL ${total?.count}`,
      );
      const ids = servers.edges.map((edge) => edge.node.id);
      expect(
        ids.join() === expected.map((row) => row.id).join(),
        title,
        `the page is not the first ${expected.length} servers by name`,
      );
      let tools = 0;
      let resources = 0;
      servers.edges.forEach(({ node }, index) => {
        const row = expected[index];
        if (row === undefined) return;
        expect(node.tenant?.id === row.tenant_id, title, `server ${node.id} has the wrong tenant`);
        expect(
          node.circuitBreaker?.state === (row.state === null ? undefined : graphqlEnum(row.state)),
          title,
          `server ${node.id} has the wrong circuit breaker`,
        );
        const schemas = node.tools.filter((tool) => typeof tool.toolSchema === 'object' && tool.toolSchema);
        expect(
          node.tools.length === row.tools && schemas.length === (toolSchemas ? row.schemas : 0),
          title,
          `server ${node.id} has ${node.tools.length} tools (${schemas.length} schemas), SQL ${row.tools} ` +
            `(${row.schemas})`,
        );
        expect(node.resources.length === row.resources, title, `server ${node.id} has the wrong resources`);
        tools += row.tools;
        resources += row.resources;
      });
      expect(ids.length === Math.min(PAGE, total?.count ?? 0), title, `${ids.length} edges`);
      return (
        `${ids.length} servers in name order of ${servers.totalCount}, ${tools} tools ` +
        `${toolSchemas ? 'with' : 'without'} their schemas, ` +
        `${resources} resources, tenants and breakers as in SQL`
      );
    },
  };
}
