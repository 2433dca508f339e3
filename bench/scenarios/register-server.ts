import { GENERIC_NOUNS, GENERIC_VERBS } from '../../src/seed/catalog.js';
import { GENERIC_TOOLS, toolInputSchema } from '../../src/seed/tool-schemas.js';
import type { Sql } from '../database.js';
import { dataOf, expect, type GraphQLReply, requestBody } from '../graphql-http.js';
import { REGISTER_SERVER } from '../operations.js';
import type { HttpScenario, ScenarioContext } from './scenario.js';

const TOOLS = 10;
const NAME_PREFIX = 'bench-registered-';
const NAME_SLOT = '%NAME%';

interface RegisterData {
  registerServer: {
    id: string;
    name: string;
    healthStatus: string;
    tenant: { id: string };
    circuitBreaker: { state: string } | null;
    tools: { name: string; toolSchema: unknown }[];
  };
}

/** Ten tools as an MCP server declares them: generic `verb_noun` tools with input schemas like the seed's. */
function declaredTools(): { name: string; description: string; toolSchema: unknown }[] {
  return Array.from({ length: TOOLS }, (_, index) => {
    const verb = GENERIC_VERBS[index % GENERIC_VERBS.length] ?? 'get';
    const noun = GENERIC_NOUNS[index % GENERIC_NOUNS.length] ?? 'item';
    const generic = GENERIC_TOOLS[verb];
    return {
      name: `${verb}_${noun}`,
      description: generic.describe(noun),
      toolSchema: toolInputSchema(generic.params, noun),
    };
  });
}

/**
 * A tenant registers a server it declares itself (discover: false) with ten tools; every request a new name.
 * The servers are deleted again after the scenario.
 */
export function registerServerScenario({ sql, keys, runId }: ScenarioContext): HttpScenario {
  const tenant = keys.tenants[0];
  if (tenant === undefined) throw new Error('the seeded database has no tenant key');
  // The body is made once; each request only fills in its name (in the name and the endpoint).
  const template = requestBody(REGISTER_SERVER, {
    input: {
      name: NAME_SLOT,
      endpointUrl: `https://${NAME_SLOT}.bench.example/mcp`,
      transportType: 'STREAMABLE_HTTP',
      description: 'Registered by the benchmark.',
      tags: ['bench'],
      discover: false,
      tools: declaredTools(),
    },
  }).split(NAME_SLOT);
  let sequence = 0;
  const title = 'RegisterServer';
  return {
    name: 'register',
    title,
    description: `discover: false, ${TOOLS} tools with input schemas, a new name each time; key of tenant ${tenant.tenantName}`,
    key: tenant.key,
    varies: true,
    explain: false,
    nextBody: () => template.join(`${NAME_PREFIX}${runId}-${sequence++}`),
    async verify(reply: GraphQLReply<unknown>, body: string) {
      const sent = JSON.parse(body) as { variables: { input: { name: string } } };
      const { registerServer: server } = dataOf(reply as GraphQLReply<RegisterData>, title);
      const name = sent.variables.input.name;
      expect(server.name === name, title, `registered "${server.name}", sent "${name}"`);
      expect(server.tenant.id === tenant.tenantId, title, 'the server went to another tenant');
      expect(server.healthStatus === 'UNKNOWN', title, `a new server is ${server.healthStatus}`);
      expect(server.circuitBreaker?.state === 'CLOSED', title, 'a new server has no closed circuit breaker');
      const schemas = server.tools.filter((tool) => typeof tool.toolSchema === 'object' && tool.toolSchema);
      expect(schemas.length === TOOLS, title, `${schemas.length} tools with schemas, sent ${TOOLS}`);
      const stored = await sql.one<{ servers: number; tools: number; audits: number }>(
        `select
           (select count(*) from mcp_servers where id = $1 and name = $2)::int as servers,
           (select count(*) from server_tools where server_id = $1 and tool_schema is not null)::int as tools,
           (select count(*) from audit_logs
             where resource_id = $1::text and action = 'server.register' and success)::int as audits`,
        [server.id, name],
      );
      expect(stored.servers === 1, title, 'the server is not in the database');
      expect(stored.tools === TOOLS, title, `${stored.tools} tools stored`);
      expect(stored.audits === 1, title, 'no audit entry for the registration');
      return `the server, its ${TOOLS} tools with schemas, a closed breaker and the audit entry are stored`;
    },
    cleanUp: () => removeRegisteredServers(sql),
  };
}

/** Deletes the servers benchmark runs registered (with their tools and breakers), this run's or earlier ones'. */
export async function removeRegisteredServers(sql: Sql): Promise<void> {
  await sql.rows('delete from mcp_servers where name like $1', [`${NAME_PREFIX}%`]);
}
